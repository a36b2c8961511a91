import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** What the tests read of a Grafana dashboard (JSON model, schemaVersion 39). */
export interface GrafanaTarget {
  refId: string;
  rawQuery?: boolean;
  query?: string;
  datasource?: { type?: string; uid?: string };
}
export interface GrafanaPanel {
  id: number;
  title: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}
export interface GrafanaVariable {
  name: string;
  type: string;
  query: string;
  multi?: boolean;
  includeAll?: boolean;
  datasource?: { type?: string; uid?: string };
}
export interface GrafanaDashboard {
  uid: string;
  title: string;
  time: { from: string; to: string };
  templating: { list: GrafanaVariable[] };
  panels: GrafanaPanel[];
}

export const DASHBOARD_DIR = path.resolve(import.meta.dirname, '../../dashboards/grafana/dashboards');

export function loadDashboards(): { file: string; dashboard: GrafanaDashboard }[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as GrafanaDashboard,
    }));
}

/** Every panel, those inside collapsed rows included. */
export function allPanels(panels: readonly GrafanaPanel[]): GrafanaPanel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `now-6h` → 21,600 s; only the relative ranges the dashboards use. */
export function rangeSeconds(from: string, to: string): number {
  const rel = (t: string) => {
    if (t === 'now') return 0;
    const m = /^now-(\d+)([smhdw])$/.exec(t);
    if (!m) throw new Error(`time "${t}" is not a relative range this test understands`);
    return Number(m[1]) * (UNITS[m[2] as string] as number);
  };
  return rel(from) - rel(to);
}

/**
 * Grafana's `$__interval`: the range over the panel's data points (about one per pixel; 1,000
 * assumed here), never below the data source's `timeInterval`, rounded up to a step of
 * kbn.roundInterval's scale.
 */
export function grafanaInterval(rangeSec: number, minSec: number): string {
  const steps = [
    1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
  ];
  const raw = Math.max(minSec, rangeSec / 1000);
  const step = steps.find((s) => s >= raw) ?? 86_400;
  return step % 3600 === 0 ? `${step / 3600}h` : step % 60 === 0 ? `${step / 60}m` : `${step}s`;
}

/** Grafana's InfluxQL time expression for a relative time (`now-6h` → `now() - 6h`). */
function influxTime(t: string): string {
  return t === 'now' ? 'now()' : t.replace(/^now-/, 'now() - ');
}

/** kbn.regexEscape, as Grafana escapes a variable's values inside a regex. */
function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/**
 * Fills in a query as Grafana's InfluxDB data source does: `$timeFilter`, `$__interval`,
 * `$interval`, `$__interval_ms`, and each template variable with its selected values, escaped for a
 * regex and joined as `(a|b)` when the variable is multi-value or has "All" (interpolateQueryExpr).
 */
export function interpolate(
  query: string,
  ctx: {
    from: string;
    to: string;
    interval: string;
    variables: Map<string, { def: GrafanaVariable; values: string[] }>;
  },
): string {
  const intervalMs = (
    Number.parseInt(ctx.interval, 10) *
    (UNITS[ctx.interval.slice(-1)] ?? 1) *
    1000
  ).toString();
  let q = query
    .replaceAll('$timeFilter', `time >= ${influxTime(ctx.from)} and time <= ${influxTime(ctx.to)}`)
    .replaceAll('$__interval_ms', intervalMs)
    .replaceAll('$__interval', ctx.interval)
    .replaceAll('$interval', ctx.interval);
  // Longest names first, so `$site` never eats the start of `$site_code`.
  for (const [name, { def, values }] of [...ctx.variables].sort((a, b) => b[0].length - a[0].length)) {
    const text =
      def.multi || def.includeAll
        ? values.length === 1
          ? regexEscape(values[0] as string)
          : `(${values.map(regexEscape).join('|')})`
        : (values[0] ?? '');
    q = q.replaceAll(`\${${name}}`, text).replaceAll(`$${name}`, text);
  }
  return q;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** One InfluxQL statement through the HTTP API; a statement error throws with the query in it. */
export async function influxQuery(url: string, db: string, q: string): Promise<InfluxSeries[]> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`);
  const body = (await res.json()) as {
    error?: string;
    results?: { error?: string; series?: InfluxSeries[] }[];
  };
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!res.ok || error) throw new Error(`InfluxDB refused ${JSON.stringify(q)}: ${error ?? res.status}`);
  return body.results?.flatMap((r) => r.series ?? []) ?? [];
}

/** The values a template variable's query lists (`SHOW TAG VALUES` answers key, value). */
export function variableValues(series: readonly InfluxSeries[]): string[] {
  const values = new Set<string>();
  for (const s of series) {
    const col = s.columns.includes('value') ? s.columns.indexOf('value') : 0;
    for (const row of s.values) values.add(String(row[col]));
  }
  return [...values].sort();
}
