import type { z } from 'zod';
import { isMetric } from '../../adapters/metrics.ts';
import { didYouMean } from '../core/strict.ts';
import { defaultSiteCode } from '../domain/work-order.ts';
import { opcuaSiteIssues } from '../opcua/config.ts';
import { type RuleConfig, ruleSchema } from '../rules/config.ts';
import { oneOverrideIssues, ruleOverridesIssues, type SiteDevices } from './override-checks.ts';
import { ruleVocabularyIssues, unknownMetric } from './vocabulary-checks.ts';

type Path = (string | number)[];

/**
 * Checks across sections: ids that must be unique or must not collide, names that must refer to
 * something configured. It runs even when some section failed its own schema (so that every
 * problem is reported in one run), so it reads the value defensively: a part that is malformed has
 * its own error already and is skipped here.
 */
export function crossCheck(value: unknown, ctx: z.RefinementCtx): void {
  const cfg = asRecord(value);
  const issue = (message: string, path: Path) => ctx.addIssue({ code: 'custom', message, path });
  const categories = asRecord(cfg.categories);
  const categoryIds = Object.keys(categories);
  const isRequest = (c: string) => Object.hasOwn(categories, c) && asRecord(categories[c]).type === 'request';
  const checkCategory = (category: unknown, path: Path, raisedByRules: boolean) => {
    if (typeof category !== 'string') return;
    if (!Object.hasOwn(categories, category)) {
      const hint = didYouMean(category, categoryIds);
      issue(
        `unknown category "${category}"${hint ? ` (did you mean "${hint}"?)` : ''} (known: ${categoryIds.join(', ')})`,
        path,
      );
    } else if (raisedByRules && isRequest(category)) {
      issue(`category "${category}" is a request category, raised by hand at the desk only`, path);
    }
  };

  const sites = asArray(cfg.sites).map(asRecord);
  const mqtt = asRecord(cfg.mqtt);
  checkLogins(sites, asArray(mqtt.subscribers).map(asRecord), issue);
  checkSiteCodes(sites, issue);
  const cluster = asRecord(cfg.cluster);
  // The instance's broker session is named after it: a name per process would leave a session
  // behind at every restart, queueing messages nobody resumes.
  if (cluster.ingest === 'shared' && cluster.instanceId === undefined)
    issue(
      "required with cluster.ingest: shared (or XIAOER_INSTANCE_ID): it names the instance's broker session, which must outlive a restart",
      ['cluster', 'instanceId'],
    );
  if (!mqtt.url && (mqtt.username || mqtt.password)) {
    issue('username/password are for an external broker (mqtt.url); the embedded one uses site gateways', [
      'mqtt',
      mqtt.username ? 'username' : 'password',
    ]);
  }

  const rules = asArray(cfg.rules).map(asRecord);
  const parsedRules = new Map<string, RuleConfig>();
  for (const raw of rules) {
    const parsed = ruleSchema.safeParse(raw);
    if (parsed.success) parsedRules.set(parsed.data.id, parsed.data);
  }
  const deviceKinds = new Set<string>();
  sites.forEach((site, s) => {
    const deviceIds = unique(`device id in site ${String(site.id)}`, issue);
    asArray(site.devices).forEach((rawDevice, d) => {
      const device = asRecord(rawDevice);
      const path: Path = ['sites', s, 'devices', d];
      if (typeof device.id === 'string') deviceIds(device.id, [...path, 'id']);
      if (typeof device.kind === 'string') deviceKinds.add(device.kind);
      const category = device.category ?? device.kind;
      checkCategory(category, [...path, device.category ? 'category' : 'kind'], true);
      checkOverrides(device, parsedRules, [...path, 'rules'], issue);
    });
  });

  const webhookIds = unique('webhook id', issue);
  asArray(asRecord(cfg.notify).webhooks).forEach((hook, i) => {
    const id = asRecord(hook).id;
    if (typeof id === 'string') webhookIds(id, ['notify', 'webhooks', i, 'id']);
  });
  const opcua = asRecord(cfg.opcua);
  if (Array.isArray(opcua.endpoints)) {
    const siteIds = new Set(sites.map((s) => s.id).filter((id): id is string => typeof id === 'string'));
    const endpoints = opcua.endpoints.filter((e) => typeof asRecord(e).site === 'string');
    for (const found of opcuaSiteIssues({ endpoints } as Parameters<typeof opcuaSiteIssues>[0], siteIds))
      issue(found.message, ['opcua', ...found.path]);
  }
  checkCategory(
    asRecord(asRecord(cfg.tickets).correlation).category,
    ['tickets', 'correlation', 'category'],
    true,
  );

  const ruleIds = unique('rule id', issue);
  // One open ticket per asset and fault: two rules raising the same fault on one kind would
  // share a ticket and fight over clearing it.
  const faultsByKind = unique('fault for asset kind', issue);
  const knownKinds = new Set([...categoryIds, ...deviceKinds]);
  rules.forEach((rule, r) => {
    if (typeof rule.id === 'string') ruleIds(rule.id, ['rules', r, 'id']);
    asArray(rule.kinds).forEach((kind, k) => {
      if (typeof kind !== 'string') return;
      if (typeof rule.fault === 'string') faultsByKind(`${rule.fault}" on "${kind}`, ['rules', r, 'fault']);
      if (!knownKinds.has(kind)) {
        const hint = didYouMean(kind, knownKinds);
        issue(
          `no device or category has kind "${kind}"${hint ? ` (did you mean "${hint}"?)` : ''} (a typo would silently disable the rule)`,
          ['rules', r, 'kinds', k],
        );
      }
    });
    checkCategory(rule.category, ['rules', r, 'category'], true);
    const parsed = typeof rule.id === 'string' ? parsedRules.get(rule.id) : undefined;
    if (!parsed) return;
    for (const found of ruleVocabularyIssues(parsed)) issue(found.message, ['rules', r, ...found.path]);
    for (const found of ruleOverridesIssues(parsed, parsed.overrides ?? {}, devicesBySite(sites)))
      issue(found.message, ['rules', r, 'overrides', ...found.path]);
  });
  for (const [e, endpoint] of asArray(opcua.endpoints).entries()) {
    for (const [n, node] of asArray(asRecord(endpoint).nodes).entries()) {
      const metric = asRecord(node).metric;
      if (typeof metric === 'string' && !isMetric(metric))
        issue(unknownMetric(metric), ['opcua', 'endpoints', e, 'nodes', n, 'metric']);
    }
  }
}

/**
 * Site ids, gateway usernames and subscriber names share one namespace: the broker keeps each
 * login's sessions apart by its name, and a name equal to another's site id or login invites
 * exactly the confusion that let one site take over another's session.
 */
function checkLogins(
  sites: Record<string, unknown>[],
  subscribers: Record<string, unknown>[],
  issue: (message: string, path: Path) => void,
): void {
  const owners = new Map<string, string>();
  const claim = (name: unknown, what: string, path: Path) => {
    if (typeof name !== 'string') return;
    const owner = owners.get(name);
    if (owner) issue(`"${name}" is already used as ${owner}; site ids and MQTT logins must all differ`, path);
    else owners.set(name, what);
  };
  for (const [s, site] of sites.entries()) claim(site.id, `site id (sites[${s}])`, ['sites', s, 'id']);
  for (const [s, site] of sites.entries()) {
    const path = ['sites', s, 'gateway', 'username'];
    claim(asRecord(site.gateway).username, `gateway username (sites[${s}])`, path);
  }
  for (const [i, sub] of subscribers.entries()) {
    claim(sub.username, `subscriber (mqtt.subscribers[${i}])`, ['mqtt', 'subscribers', i, 'username']);
  }
}

/**
 * Work-order numbers begin with the site's code (`XC-20261201-007`): two sites with one code would
 * give the desk two tickets it cannot tell apart on the phone.
 */
function checkSiteCodes(
  sites: Record<string, unknown>[],
  issue: (message: string, path: Path) => void,
): void {
  const owners = new Map<string, string>();
  for (const [s, site] of sites.entries()) {
    // A duplicate site id is reported as such (checkLogins), not once more as its code.
    if (typeof site.id !== 'string' || [...owners.values()].includes(site.id)) continue;
    const own = typeof site.code === 'string';
    const code = own ? (site.code as string) : defaultSiteCode(site.id);
    const owner = owners.get(code);
    if (owner === undefined) {
      owners.set(code, site.id);
      continue;
    }
    issue(
      `site code "${code}"${own ? '' : ' (from the id)'} is already site "${owner}"'s; set \`code\` (2 to 4 upper-case letters) to tell their work-order numbers apart`,
      ['sites', s, own ? 'code' : 'id'],
    );
  }
}

/** A device's `rules:` may only change rules that exist and apply to its kind, with fields they use. */
function checkOverrides(
  device: Record<string, unknown>,
  rules: ReadonlyMap<string, RuleConfig>,
  path: Path,
  issue: (message: string, path: Path) => void,
): void {
  const overrides = asRecord(device.rules);
  for (const [ruleId, override] of Object.entries(overrides)) {
    const rule = rules.get(ruleId);
    if (!rule) {
      const hint = didYouMean(ruleId, rules.keys());
      issue(`unknown rule "${ruleId}"${hint ? ` (did you mean "${hint}"?)` : ''}`, [...path, ruleId]);
      continue;
    }
    if (typeof device.kind === 'string' && !rule.kinds.includes(device.kind)) {
      issue(`rule "${ruleId}" applies to ${rule.kinds.join(', ')}, not to kind "${device.kind}"`, [
        ...path,
        ruleId,
      ]);
      continue;
    }
    for (const found of oneOverrideIssues(rule, asRecord(override)))
      issue(found.message, [...path, ruleId, ...found.path]);
  }
}

function devicesBySite(sites: Record<string, unknown>[]): SiteDevices {
  return new Map(
    sites
      .filter((site) => typeof site.id === 'string')
      .map((site) => [
        site.id as string,
        new Map(asArray(site.devices).map((d) => [String(asRecord(d).id), asRecord(d)])),
      ]),
  );
}

function unique(kind: string, issue: (message: string, path: Path) => void) {
  const seen = new Set<string>();
  return (value: string, path: Path) => {
    if (seen.has(value)) issue(`duplicate ${kind} "${value}"`, path);
    seen.add(value);
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
