import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
    expect(config.http).toEqual({ host: '0.0.0.0', port: 9090 });
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
    expect(issues).toEqual(
      expect.arrayContaining([
        'sla.arrivalMinutes: Too small: expected number to be >0',
        expect.stringMatching(/^sites\[0\]\.id: expected lower-case letters/),
        'sites[1].gateway.password: Invalid input: expected string, received undefined',
        'rules[0]: a threshold rule needs "above", "below" or both',
        expect.stringMatching(/^rules\[1\]\.type: /),
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
      'sites[0].devices[1].id: duplicate device id in site xincheng "a"',
      'sites[0].devices[2].kind: unknown category "lock" (known: plumbing)',
      'sites[1].id: duplicate site id "xincheng"',
      'sites[1].gateway.username: duplicate MQTT username "gw"',
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
