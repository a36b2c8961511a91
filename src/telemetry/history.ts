import { XiaoerError } from '../core/errors.ts';
import type { Instant, Reading, ReadingValue } from '../domain/types.ts';
import type { InfluxConfig } from './config.ts';
import { InfluxQuery, quoteIdent, quoteString, type SeriesPart } from './history-query.ts';

/** The assets history is read for: their site and id are the `site` and `asset` tags (points.ts). */
export interface HistoryAsset {
  site: string;
  id: string;
}

export interface HistoryRequest<A extends HistoryAsset = HistoryAsset> {
  assets: readonly A[];
  /** Canonical metric names (measurements), or `any`: every measurement (any sign of life). */
  metrics: readonly string[] | 'any';
  /** The window, epoch ms: `from` included, `to` excluded. */
  from: Instant;
  to: Instant;
  /** More readings than this in the window is `history_too_large`, found while streaming. */
  maxReadings: number;
  /** Aborting it ends the read with `history_aborted` (e.g. the API's client went away). */
  signal?: AbortSignal;
  /** For the whole read, every query included; default 60 s. Past it: `influx_timeout`. */
  timeoutMs?: number;
}

export interface HistoryRead {
  readings: number;
  /** Assets with at least one reading in the window (each was passed to `onAsset` once). */
  assets: number;
}

/** Called once per asset that has readings, with all of them (every metric asked for) in time order. */
export type OnAssetHistory<A> = (asset: A, readings: Reading[]) => void | Promise<void>;

/** Asset ids per query of a single metric, so that the query text stays small. */
const ASSETS_PER_QUERY = 200;
const QUERIES_IN_FLIGHT = 2;
const DEFAULT_TIMEOUT_MS = 60_000;
/** What points.ts lets the writer store as a measurement. */
const MEASUREMENT = /^[a-z][a-z0-9_]*$/;

/** What the rule preview (and anything else reading history) answers when InfluxDB is not configured. */
export function influxNotConfigured(): XiaoerError {
  return new XiaoerError(
    'influx_not_configured',
    'No InfluxDB is configured (the "influx" section of the config is absent), so xiaoer keeps no ' +
      'telemetry history to read',
    { httpStatus: 409 },
  );
}

/**
 * Streams the readings of `metrics` for `assets` over a window from InfluxDB 1.x, as the telemetry
 * writer stores them (points.ts: measurement = metric, tags `site` and `asset`, one field `value`;
 * numbers are floats, booleans and strings keep their types), and calls `onAsset` per asset, one
 * after another (awaited). One asset's readings are in memory at a time, never the whole window.
 *
 * One metric: a query per site and 200 assets, grouped by asset, whose series arrive one asset after
 * another. Several metrics (or `any`): a query per asset, its measurements merged by time.
 */
export async function readHistory<A extends HistoryAsset>(
  config: InfluxConfig | undefined,
  req: HistoryRequest<A>,
  onAsset: OnAssetHistory<A>,
): Promise<HistoryRead> {
  if (!config) throw influxNotConfigured();
  checkRequest(req);
  const influx = new InfluxQuery(config, req.timeoutMs ?? DEFAULT_TIMEOUT_MS, req.signal);
  const read: HistoryRead = { readings: 0, assets: 0 };
  // Assets are delivered one at a time even when two queries stream at once.
  let turn: Promise<void> = Promise.resolve();
  let failed = false;
  const reader: Reader<A> = {
    influx,
    rp: config.retentionPolicy ? `${quoteIdent(config.retentionPolicy)}.` : '',
    range: `time >= ${req.from}ms AND time < ${req.to}ms`,
    count(n) {
      read.readings += n;
      if (read.readings > req.maxReadings) throw tooLarge(req);
    },
    deliver(asset, readings) {
      const mine = turn.then(() => {
        if (failed) return;
        read.assets++;
        return onAsset(asset, readings);
      });
      turn = mine.catch(() => {});
      return mine;
    },
  };
  try {
    if (req.metrics !== 'any' && req.metrics.length === 1)
      await readOneMetric(reader, req.assets, req.metrics[0] as string);
    else {
      const measurements =
        req.metrics === 'any' ? await measurementsOf(influx, req.assets) : [...new Set(req.metrics)];
      if (measurements.length > 0) await readPerAsset(reader, req.assets, measurements);
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    influx.close();
  }
  return read;
}

interface Reader<A> {
  influx: InfluxQuery;
  /** The retention policy the writer writes to, as a prefix of a measurement (`"rp".`), or ''. */
  rp: string;
  /** The window as an InfluxQL condition. */
  range: string;
  /** Counts readings read, and stops the read past `maxReadings`. */
  count(n: number): void;
  deliver(asset: A, readings: Reading[]): Promise<void>;
}

/**
 * Queries of up to 200 assets of one site, grouped by asset, so that the series arrive one asset
 * after another; two at a time, so that InfluxDB, whose encoding of a long answer is most of the
 * read's cost, works on both cores while the caller replays what has arrived.
 */
async function readOneMetric<A extends HistoryAsset>(r: Reader<A>, assets: readonly A[], metric: string) {
  const from = `${r.rp}${quoteIdent(metric)}`;
  const queries: { query: string; site: string; group: A[] }[] = [];
  for (const [site, ofSite] of bySite(assets)) {
    const parts = Math.max(
      Math.ceil(ofSite.length / ASSETS_PER_QUERY),
      Math.min(QUERIES_IN_FLIGHT, ofSite.length),
    );
    const size = Math.ceil(ofSite.length / parts);
    for (let i = 0; i < ofSite.length; i += size) {
      const group = ofSite.slice(i, i + size);
      const ids = group.map((a) => `"asset" = ${quoteString(a.id)}`).join(' OR ');
      const where = `"site" = ${quoteString(site)} AND (${ids}) AND ${r.range}`;
      // Not also by site (fixed by the WHERE): a second tag costs InfluxDB ~15% more (measured).
      queries.push({ query: `SELECT "value" FROM ${from} WHERE ${where} GROUP BY "asset"`, site, group });
    }
  }
  let next = 0;
  const worker = async () => {
    for (let q = queries[next++]; q; q = queries[next++]) await collectByAsset(r, q.query, q.site, q.group);
  };
  await Promise.all(Array.from({ length: Math.min(QUERIES_IN_FLIGHT, queries.length) }, worker));
}

/**
 * A query per asset with a statement per measurement (with several in one FROM, InfluxDB 1.x
 * returns only those whose field has the type of the first: a boolean metric hides a float one),
 * the measurements then merged by time.
 */
async function readPerAsset<A extends HistoryAsset>(
  r: Reader<A>,
  assets: readonly A[],
  measurements: string[],
) {
  for (const asset of assets) {
    const where = `"site" = ${quoteString(asset.site)} AND "asset" = ${quoteString(asset.id)} AND ${r.range}`;
    const query = measurements
      .map((m) => `SELECT "value" FROM ${r.rp}${quoteIdent(m)} WHERE ${where}`)
      .join('; ');
    const readings: Reading[] = [];
    for await (const s of r.influx.series(query)) {
      r.count(s.values.length);
      pushReadings(r.influx, readings, s, asset);
    }
    // A stable sort: readings of one time stay in the order of the measurements.
    readings.sort((a, b) => a.ts - b.ts);
    if (readings.length > 0) await r.deliver(asset, readings);
  }
}

/** Every measurement the assets' sites have written (for `any`), canonical names only. */
async function measurementsOf(influx: InfluxQuery, assets: readonly HistoryAsset[]): Promise<string[]> {
  const names = new Set<string>();
  for (const site of new Set(assets.map((a) => a.site))) {
    for await (const s of influx.series(`SHOW MEASUREMENTS WHERE "site" = ${quoteString(site)}`)) {
      for (const row of s.values)
        if (typeof row[0] === 'string' && MEASUREMENT.test(row[0])) names.add(row[0]);
    }
  }
  return [...names].sort();
}

function checkRequest(req: HistoryRequest<HistoryAsset>): void {
  const bad = (message: string) => new XiaoerError('history_request_invalid', message, { httpStatus: 400 });
  if (!Number.isSafeInteger(req.from) || !Number.isSafeInteger(req.to) || req.from >= req.to)
    throw bad(`the window must be epoch ms with from before to (from ${req.from}, to ${req.to})`);
  if (req.metrics !== 'any') {
    if (req.metrics.length === 0) throw bad('no metric to read');
    const odd = req.metrics.find((m) => !MEASUREMENT.test(m));
    if (odd !== undefined) throw bad(`"${odd}" is not a canonical metric name (snake_case)`);
  }
  if (!(req.maxReadings > 0)) throw bad('maxReadings must be positive');
}

function tooLarge(req: HistoryRequest<HistoryAsset>): XiaoerError {
  const days = (req.to - req.from) / 86_400_000;
  return new XiaoerError(
    'history_too_large',
    `The window holds more than ${req.maxReadings.toLocaleString('en')} readings (${req.assets.length} ` +
      `assets over ${days.toFixed(1)} days): choose a shorter window or fewer assets`,
    { httpStatus: 422, details: { maxReadings: req.maxReadings } },
  );
}

function bySite<A extends HistoryAsset>(assets: readonly A[]): Map<string, A[]> {
  const sites = new Map<string, A[]>();
  for (const a of assets) {
    const list = sites.get(a.site);
    if (list) list.push(a);
    else sites.set(a.site, [a]);
  }
  return sites;
}

/**
 * The readings of one metric's series, grouped by asset: an asset's series may come in several
 * chunks, and the next asset's first chunk says that the previous one is complete.
 */
async function collectByAsset<A extends HistoryAsset>(
  r: Reader<A>,
  query: string,
  site: string,
  assets: readonly A[],
) {
  const { influx } = r;
  const wanted = new Map(assets.map((a) => [a.id, a]));
  const done = new Set<string>();
  let current: { key: string; asset: A; readings: Reading[] } | undefined;
  let skipping: string | undefined;
  for await (const s of influx.series(query)) {
    const key = String(s.tags.asset ?? '');
    if (key === skipping) continue;
    if (current?.key !== key) {
      if (current) await r.deliver(current.asset, current.readings);
      current = undefined;
      const asset = wanted.get(key);
      if (!asset) {
        // Not asked for: the query's WHERE rules it out, but a tag from the wire is not trusted.
        skipping = key;
        continue;
      }
      if (done.has(key)) throw influx.failed(`InfluxDB at ${influx.server} sent asset ${site}/${key} twice`);
      done.add(key);
      current = { key, asset, readings: [] };
    }
    r.count(s.values.length);
    pushReadings(influx, current.readings, s, current.asset);
  }
  if (current) await r.deliver(current.asset, current.readings);
}

function pushReadings(influx: InfluxQuery, out: Reading[], s: SeriesPart, asset: HistoryAsset): void {
  const { name, values } = s;
  const valueColumn = s.columns.indexOf('value');
  if (s.columns[0] !== 'time' || valueColumn < 1)
    throw influx.failed(`InfluxDB at ${influx.server} sent ${name} without time and value columns`);
  const { site, id } = asset;
  for (let i = 0; i < values.length; i++) {
    const row = values[i] as unknown[];
    const ts = row[0];
    const value = row[valueColumn];
    // A row without the field (another field written to the measurement by hand) is no reading.
    if (value === null || value === undefined) continue;
    if (typeof ts !== 'number')
      throw influx.failed(`InfluxDB at ${influx.server} sent a time in ${name} that is not epoch ms`);
    out.push({ site, assetId: id, metric: name, value: value as ReadingValue, ts });
  }
}
