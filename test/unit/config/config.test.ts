import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/config/directory.ts';
import { loadConfig, parseConfigText } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/core/errors.ts';

const minimal = `
categories: { plumbing: { name: Plumbing }, lock: { name: Locks } }
sites:
  - id: xincheng
    name: Xincheng
    gateway: { username: xincheng-gw, password: pw }
    devices:
      - { id: leak-1, kind: plumbing }
`;

function issuesOf(text: string, env = {}): string[] {
  try {
    parseConfigText(text, 'test.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('loads the shipped example: three sites with gateway logins and the required devices', () => {
    const { config, source } = loadConfig(undefined, {}, path.resolve(import.meta.dirname, '../../..'));
    expect(source).toMatch(/config\/example\.yaml$/);
    expect(config.sites.map((s) => s.id)).toEqual(['xincheng', 'north', 'east']);
    for (const site of config.sites) {
      expect(site.gateway).toEqual({ username: `${site.id}-gw`, password: `${site.id}-demo` });
      expect(site.devices.map((d) => d.id)).toEqual(
        expect.arrayContaining(['leak-b1-riser', 'lock-3f-east', 'hvac-2f-office']),
      );
    }
    expect(Object.keys(config.categories)).toEqual(expect.arrayContaining(['plumbing', 'lock', 'hvac']));
    expect(config.sla).toEqual({ arrivalMinutes: 5, repairMinutes: 60 });
  });

  it('fills defaults and applies environment overrides', () => {
    const config = parseConfigText(minimal, 'test.yaml', {
      PORT: '9090',
      MQTT_PORT: '0',
      DATA_DIR: '/tmp/x',
      XIAOER_ADMIN_PASSWORD: 'a-long-password',
    });
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 9090 });
    expect(config.mqtt).toMatchObject({ port: 0, clientId: 'xiaoer-ingest' });
    expect(config.dataDir).toBe('/tmp/x');
    expect(config.auth.adminPassword).toBe('a-long-password');
    expect(config.rules).toEqual([]);
  });

  it('lists every problem as path: message', () => {
    const issues = issuesOf(`
categories: { plumbing: { name: Plumbing } }
sla: { arrivalMinutes: -5 }
sites:
  - id: Xin Cheng
    name: X
    gateway: { username: gw, password: pw }
    devices:
      - { id: a, kind: plumbing }
      - { id: a, kind: plumbing }
      - { id: "b/c", kind: lock }
  - id: north
    name: N
    gateway: { username: gw }
rules:
  - { id: r1, type: threshold, kinds: [hvac], metric: t, fault: hot }
  - { id: r2, type: sometimes, kinds: [hvac], fault: x }
`);
    // Structural and cross-field problems together, in one run: fixing the first two must not
    // reveal a third.
    expect(issues).toEqual(
      expect.arrayContaining([
        'sla.arrivalMinutes: Too small: expected number to be >0',
        expect.stringMatching(/^sites\[0\]\.id: expected lower-case letters.* \(site "Xin Cheng"\)$/),
        'sites[1].gateway.password: Invalid input: expected string, received undefined (site "north")',
        'rules[0]: a threshold rule needs "above", "below" or both (rule "r1")',
        expect.stringMatching(/^rules\[1\]\.type: .*\(rule "r2"\)$/),
        'sites[0].devices[1].id: duplicate device id in site Xin Cheng "a" (site "Xin Cheng", device "a")',
        'sites[0].devices[2].kind: unknown category "lock" (known: plumbing) (site "Xin Cheng", device "b/c")',
        expect.stringMatching(/^rules\[0\]\.kinds\[0\]: no device or category has kind "hvac"/),
      ]),
    );
  });

  it('reports cross-field mistakes: duplicates and unknown categories', () => {
    const issues = issuesOf(`
categories: { plumbing: { name: Plumbing } }
sites:
  - id: xincheng
    name: X
    gateway: { username: gw, password: pw }
    devices:
      - { id: a, kind: plumbing }
      - { id: a, kind: plumbing }
      - { id: b, kind: lock }
  - id: xincheng
    name: Y
    gateway: { username: gw, password: pw }
`);
    expect(issues).toEqual([
      'sites[1].id: "xincheng" is already used as site id (sites[0]); site ids and MQTT logins must all differ (site "xincheng")',
      'sites[1].gateway.username: "gw" is already used as gateway username (sites[0]); site ids and MQTT logins must all differ (site "xincheng")',
      'sites[0].devices[1].id: duplicate device id in site xincheng "a" (site "xincheng", device "a")',
      'sites[0].devices[2].kind: unknown category "lock" (known: plumbing) (site "xincheng", device "b")',
    ]);
  });

  it('refuses unknown keys anywhere, with a "did you mean" hint', () => {
    const issues = issuesOf(`${minimal}
slaa: { arrivalMinutes: 5 }
rules:
  - { id: leak, type: threshold, kinds: [plumbing], metric: pressure_kpa, below: 100, clearbelow: 120, fault: low }
notify: { webhooks: [{ id: w, kind: generic, url: "http://x/", evnts: [raised] }] }
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        '(root): unknown key "slaa" (did you mean "sla"?)',
        'rules[0]: unknown key "clearbelow" (did you mean "clearBelow"?) (rule "leak")',
        'notify.webhooks[0]: unknown key "evnts" (did you mean "events"?) (webhook "w")',
      ]),
    );
  });

  it('refuses per-device overrides of unknown rules and of fields the rule does not use', () => {
    const issues = issuesOf(`
categories: { plumbing: { name: Plumbing }, lock: { name: Locks } }
sites:
  - id: xincheng
    name: Xincheng
    gateway: { username: xincheng-gw, password: pw }
    devices:
      - id: leak-1
        kind: plumbing
        rules:
          water-lek: { disabled: true }
          pressure-low: { silentSeconds: 60, metric: flow_lpm }
          lock-silent: { silentSeconds: 60 }
      - { id: p-2, kind: plumbing, rules: { pressure-low: { below: 100, clearAbove: 90 } } }
      - { id: lock-1, kind: lock, rules: { lock-silent: { silentSeconds: 600 } } }
rules:
  - { id: water-leak, type: equals, kinds: [plumbing], metric: water_leak, value: true, fault: leak }
  - { id: pressure-low, type: threshold, kinds: [plumbing], metric: pressure_kpa, below: 150, fault: low }
  - { id: lock-silent, type: no_data, kinds: [lock], silentSeconds: 300, fault: no_data }
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'sites[0].devices[0].rules.water-lek: unknown rule "water-lek" (did you mean "water-leak"?) (site "xincheng", device "leak-1")',
        'sites[0].devices[0].rules.pressure-low: unknown key "metric" (site "xincheng", device "leak-1")',
        'sites[0].devices[0].rules.lock-silent: rule "lock-silent" applies to lock, not to kind "plumbing" (site "xincheng", device "leak-1")',
        'sites[0].devices[1].rules.pressure-low.clearAbove: "clearAbove" must be at least "below" (site "xincheng", device "p-2")',
      ]),
    );
    // The lock's override is right: no issue names it.
    expect(issues.filter((i) => i.includes('lock-1'))).toEqual([]);
    const typeMismatch = issuesOf(`
categories: { plumbing: { name: Plumbing } }
sites:
  - id: s
    name: S
    gateway: { username: s-gw, password: pw }
    devices: [{ id: p, kind: plumbing, rules: { pressure-low: { silentSeconds: 60 } } }]
rules:
  - { id: pressure-low, type: threshold, kinds: [plumbing], metric: pressure_kpa, below: 150, fault: low }
`);
    expect(typeMismatch).toEqual([
      'sites[0].devices[0].rules.pressure-low.silentSeconds: rule "pressure-low" is of type threshold: "silentSeconds" does not apply (it takes disabled, forSeconds, debounceSeconds, above, below, clearBelow, clearAbove) (site "s", device "p")',
    ]);
  });

  it('checks the metrics rules and OPC UA nodes name against the vocabulary', () => {
    const issues = issuesOf(`
categories: { plumbing: { name: Plumbing }, lock: { name: Locks } }
sites:
  - { id: s, name: S, gateway: { username: s-gw, password: pw }, devices: [{ id: l, kind: lock }, { id: p, kind: plumbing }] }
rules:
  - { id: leak, type: equals, kinds: [plumbing], metric: water_leek, value: true, fault: leak }
  - { id: lock-hot, type: threshold, kinds: [lock], metric: water_leak, above: 1, fault: x }
  - { id: jammed, type: threshold, kinds: [lock], metric: lock_state, above: 3, fault: jammed }
  - { id: low, type: equals, kinds: [plumbing], metric: pressure_kpa, value: low, fault: low }
opcua:
  endpoints:
    - id: bms
      site: s
      url: opc.tcp://127.0.0.1:4840
      nodes: [{ nodeId: "ns=1;s=X", assetId: p, metric: supply_air_temprature_c }]
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^rules\[0\]\.metric: unknown metric "water_leek" \(did you mean "water_leak"\?\)/,
        ),
        expect.stringMatching(/^rules\[1\]\.metric: metric "water_leak" says nothing about kind lock/),
        expect.stringMatching(/^rules\[2\]\.metric: metric "lock_state" is a string; this needs a number/),
        expect.stringMatching(/^rules\[3\]\.metric: metric "pressure_kpa" is a number; this needs a string/),
        expect.stringMatching(
          /^opcua\.endpoints\[0\]\.nodes\[0\]\.metric: unknown metric "supply_air_temprature_c" \(did you mean "supply_air_temperature_c"\?\)/,
        ),
      ]),
    );
  });

  it('refuses limits a sensor could never cross, and overrides of unknown sites and devices', () => {
    const issues = issuesOf(`
categories: { plumbing: { name: Plumbing }, lock: { name: Locks } }
sites:
  - id: xincheng
    name: Xincheng
    gateway: { username: xincheng-gw, password: pw }
    devices:
      - { id: leak-1, kind: plumbing, rules: { pipe-low: { below: 250 } } }
      - { id: lock-1, kind: lock }
rules:
  - id: pipe-low
    type: threshold
    kinds: [plumbing]
    fault: low_pressure
    metric: pressure_kpa
    below: -5
    overrides:
      sites: { xinchen: { below: 100 } }
      assets: { xincheng: { leak-1: { below: 200 }, leak-9: { below: 1 }, lock-1: { below: 1 } } }
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^rules\[0\]\.below: -5 kPa is outside what pressure_kpa can read \(0 to 10000 kPa\)/,
        ),
        expect.stringMatching(
          /^rules\[0\]\.overrides\.sites\.xinchen: unknown site "xinchen" \(did you mean "xincheng"\?\)/,
        ),
        expect.stringMatching(
          /overrides\.assets\.xincheng\.leak-1: device "leak-1" sets its own rules\.pipe-low differently/,
        ),
        expect.stringMatching(/overrides\.assets\.xincheng\.leak-9: site "xincheng" has no device "leak-9"/),
        expect.stringMatching(
          /overrides\.assets\.xincheng\.lock-1: rule "pipe-low" applies to plumbing, not to kind "lock"/,
        ),
      ]),
    );
  });

  it('keeps site ids, gateway logins and subscriber names apart', () => {
    const issues = issuesOf(`
categories: { plumbing: { name: Plumbing } }
mqtt: { subscribers: [{ username: north-annex, password: long-enough }] }
sites:
  - { id: north, name: N, gateway: { username: north-annex, password: pw } }
  - { id: north-annex, name: NA, code: NA, gateway: { username: north, password: pw } }
`);
    expect(issues).toEqual([
      'sites[0].gateway.username: "north-annex" is already used as site id (sites[1]); site ids and MQTT logins must all differ (site "north")',
      'sites[1].gateway.username: "north" is already used as site id (sites[0]); site ids and MQTT logins must all differ (site "north-annex")',
      'mqtt.subscribers[0].username: "north-annex" is already used as site id (sites[1]); site ids and MQTT logins must all differ (subscriber "north-annex")',
    ]);
  });

  it('merges category SLA targets field by field, and a category may drop the arrival clock', () => {
    const config = parseConfigText(
      `
sla: { arrivalMinutes: 10, repairMinutes: 90 }
categories:
  plumbing: { name: Plumbing, sla: { repairMinutes: 30 } }
  access: { name: 人员门禁开通, type: request, sla: { arrivalMinutes: null, repairMinutes: 120 } }
sites:
  - { id: s, name: S, gateway: { username: s-gw, password: pw }, devices: [{ id: leak-1, kind: plumbing }] }
`,
      'test.yaml',
    );
    const directory = new Directory(config);
    expect(directory.slaFor('plumbing')).toEqual({ arrivalMs: 10 * 60_000, repairMs: 30 * 60_000 });
    expect(directory.slaFor('access')).toEqual({ arrivalMs: null, repairMs: 120 * 60_000 });
    // Own keys only: a category named like an Object.prototype member is not found.
    expect(directory.categoryExists('toString')).toBe(false);
    expect(directory.categoryExists('__proto__')).toBe(false);
  });

  it('refuses rules and devices that would raise tickets in a request category', () => {
    const issues = issuesOf(`
categories: { access: { name: Access, type: request }, lock: { name: Locks } }
sites:
  - { id: s, name: S, gateway: { username: s-gw, password: pw }, devices: [{ id: l, kind: lock, category: access }] }
rules:
  - { id: r, type: offline, kinds: [lock], category: access, fault: offline }
`);
    expect(issues).toEqual([
      'sites[0].devices[0].category: category "access" is a request category, raised by hand at the desk only (site "s", device "l")',
      'rules[0].category: category "access" is a request category, raised by hand at the desk only (rule "r")',
    ]);
  });

  it('rejects bad environment values and YAML syntax with the place named', () => {
    expect(issuesOf(minimal, { PORT: 'eighty' })).toEqual([
      'PORT: expected a port number 0-65535, got "eighty"',
    ]);
    expect(issuesOf('sites: [\n  - id: x\n')[0]).toMatch(/^\(file\) line \d+: /);
    expect(issuesOf('just a string')).toEqual(['(root): expected a mapping of settings']);
  });

  it('names the file it could not read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-config-'));
    try {
      expect(() => loadConfig('missing.yaml', {}, dir)).toThrow(
        /missing\.yaml:\n {2}\(file\): cannot read: ENOENT/,
      );
      writeFileSync(path.join(dir, 'c.json'), '{"sites": ');
      expect(() => loadConfig(undefined, { XIAOER_CONFIG: 'c.json' }, dir)).toThrow(
        /c\.json:\n {2}\(file\): not valid JSON/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
