import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type Ticket = {
  id: number;
  assetId: string;
  site: string;
  ruleId: string;
  alarmActive: boolean;
  status: string;
};
type Version = {
  version: number;
  state: string;
  author: string;
  comment: string;
  diff: unknown[];
  restoredFrom: number | null;
};
type RuleView = {
  id: string;
  version: number;
  values: { field: string; value: unknown; source: string; site: string | null }[];
  pending: Version[];
};

const OVERHEAT = '/api/rules/office-overheat';

describe('alert rules changed at runtime', () => {
  let t: TestApp | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const temperature = async (site: string, value: number, assetId = 'hvac-2f-office') => {
    const gw = await t?.gateway(site);
    await gw?.publishAsync(`${site}/xiaoer/hvac/${assetId}/state`, JSON.stringify({ temperature_c: value }), {
      qos: 1,
    });
    await gw?.endAsync();
  };
  const tickets = async (token: string) =>
    (await (t as TestApp).request<{ tickets: Ticket[] }>('GET', '/api/tickets?open=true', { token })).body
      .tickets;
  const overheat = async (token: string, site = 'xincheng') =>
    (await tickets(token)).find((x) => x.ruleId === 'office-overheat' && x.site === site);

  it('applies a change on the next reading without a restart or a dropped MQTT connection, re-judges the open alarm, restores, audits', async () => {
    t = await startTestApp();
    const admin = await t.adminToken();
    const staff = await t.userToken('desk', 'staff');
    const fixer = await t.userToken('wang', 'maintainer');
    // A gateway that stays connected through every change.
    const gw = await t.gateway('xincheng');
    let closes = 0;
    gw.on('close', () => closes++);

    await temperature('xincheng', 27);
    expect(await overheat(staff)).toBeUndefined();

    for (const token of [staff, fixer]) {
      const refused = await t.request('PATCH', OVERHEAT, { token, body: { above: 26, comment: 'summer' } });
      expect(refused.status).toBe(403);
    }
    const changed = await t.request<Version>('PATCH', OVERHEAT, {
      token: admin,
      body: { above: 26, comment: 'summer: the 2F office runs warm' },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({
      version: 2,
      state: 'applied',
      author: 'admin',
      diff: [{ path: 'rule.above', from: 28, to: 26 }],
    });
    await temperature('xincheng', 27);
    expect(await overheat(staff)).toMatchObject({ alarmActive: true, status: 'raised' });

    // A higher limit: the open alarm is judged again and clears (the ticket stays for the desk).
    await t.request('PATCH', OVERHEAT, { token: admin, body: { above: 30, comment: 'too sensitive' } });
    await waitFor(async () => ((await overheat(staff))?.alarmActive === false ? true : undefined), {
      what: 'the overheat alarm to clear under the new limit',
    });

    const restored = await t.request<Version>('POST', `${OVERHEAT}/restore`, {
      token: admin,
      body: { version: 2, comment: 'back to the summer limit' },
    });
    expect(restored.body).toMatchObject({
      version: 4,
      restoredFrom: 2,
      diff: [{ path: 'rule.above', from: 30, to: 26 }],
    });
    await temperature('xincheng', 27);
    expect(await overheat(staff)).toMatchObject({ alarmActive: true });

    const versions = await t.request<{ versions: Version[] }>('GET', `${OVERHEAT}/versions`, {
      token: staff,
    });
    expect(versions.body.versions.map((v) => [v.version, v.author, v.comment])).toEqual([
      [1, 'system:config', 'from the configuration file'],
      [2, 'admin', 'summer: the 2F office runs warm'],
      [3, 'admin', 'too sensitive'],
      [4, 'admin', 'back to the summer limit'],
    ]);
    const audit = await t.request<{ entries: { action: string; target: string; actor: string }[] }>(
      'GET',
      '/api/audit?limit=100',
      { token: admin },
    );
    const ruleAudit = audit.body.entries.filter(
      (e) => e.target === 'rule:office-overheat' && e.actor === 'admin',
    );
    expect(ruleAudit.map((e) => e.action).sort()).toEqual(['rule.change', 'rule.change', 'rule.restore']);
    expect(closes).toBe(0);
    expect(gw.connected).toBe(true);
  });

  it('refuses changes that break the rule, naming the field, and changes nothing', async () => {
    t = await startTestApp();
    const admin = await t.adminToken();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ above: 500 }, /above: 500 °C is outside what temperature_c can read/],
      [{ clearBelow: 40 }, /clearBelow: "clearBelow" must be at most "above"/],
      [{ metric: 'flow_lpm' }, /metric: metric "flow_lpm" says nothing about kind hvac/],
      [{ forSeconds: -5 }, /forSeconds/],
    ];
    for (const [body, message] of cases) {
      const res = await t.request<{ error: { code: string; message: string } }>('PATCH', OVERHEAT, {
        token: admin,
        body: { ...body, comment: 'try' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    const unknownField = await t.request('PATCH', OVERHEAT, {
      token: admin,
      body: { abvoe: 1, comment: 'typo' },
    });
    expect(unknownField.status).toBe(400);
    const noComment = await t.request('PATCH', OVERHEAT, { token: admin, body: { above: 27 } });
    expect(noComment.status).toBe(400);
    const versions = await t.request<{ versions: Version[] }>('GET', `${OVERHEAT}/versions`, {
      token: admin,
    });
    expect(versions.body.versions).toHaveLength(1);
  });

  it('sets and removes site and asset overrides, shows where each value comes from, and exports YAML that loads', async () => {
    t = await startTestApp();
    const admin = await t.adminToken();
    const site = await t.request('PATCH', `${OVERHEAT}/overrides/north`, {
      token: admin,
      body: { above: 24, comment: 'north faces south' },
    });
    expect(site.status, JSON.stringify(site.body)).toBe(200);
    const asset = await t.request('PATCH', `${OVERHEAT}/overrides/xincheng/hvac-2f-office`, {
      token: admin,
      body: { forSeconds: 300, comment: 'sunny afternoons' },
    });
    expect(asset.status, JSON.stringify(asset.body)).toBe(200);
    const unknownAsset = await t.request('PATCH', `${OVERHEAT}/overrides/xincheng/nope`, {
      token: admin,
      body: { above: 20, comment: 'x' },
    });
    expect(unknownAsset.status).toBe(400);

    await temperature('north', 25);
    const staff = await t.userToken('desk', 'staff');
    expect(await overheat(staff, 'north')).toMatchObject({ alarmActive: true });

    const list = await t.request<{ rules: RuleView[] }>('GET', '/api/rules', { token: staff });
    const view = list.body.rules.find((r) => r.id === 'office-overheat');
    expect(view?.version).toBe(3);
    expect(view?.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'above', value: 28, source: 'kind' }),
        expect.objectContaining({ field: 'debounceSeconds', value: 0, source: 'default' }),
        expect.objectContaining({ field: 'above', value: 24, source: 'site', site: 'north' }),
        expect.objectContaining({ field: 'forSeconds', value: 300, source: 'asset', site: 'xincheng' }),
      ]),
    );

    const exported = await fetch(`${t.baseUrl}/api/rules/export`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(exported.headers.get('content-type')).toMatch(/yaml/);
    const yamlText = await exported.text();
    const rules = (parse(yamlText) as { rules: Config['rules'] }).rules;
    expect(rules.find((r) => r.id === 'office-overheat')?.overrides).toEqual({
      sites: { north: { above: 24 } },
      assets: { xincheng: { 'hvac-2f-office': { forSeconds: 300 } } },
    });
    // Committed back into the config file, it loads and says the same.
    const base = parseConfigText(
      (await import('node:fs')).readFileSync(
        path.resolve(import.meta.dirname, '../../config/example.yaml'),
        'utf8',
      ),
      'example.yaml',
    );
    expect(() => parseConfigText(JSON.stringify({ ...rawOf(base), rules }), 'exported.yaml')).not.toThrow();

    const removed = await t.request<Version>(
      'DELETE',
      `${OVERHEAT}/overrides/north?comment=${encodeURIComponent('autumn')}`,
      {
        token: admin,
      },
    );
    expect(removed.body).toMatchObject({
      version: 4,
      diff: [{ path: 'sites.north.above', from: 24, to: null }],
    });
    await waitFor(async () => ((await overheat(staff, 'north'))?.alarmActive === false ? true : undefined), {
      what: 'the north alarm to clear once its override is gone',
    });
  });

  it('makes a changed YAML a new version at the next start, and keeps runtime changes of rules the YAML did not change', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'xiaoer-rules-'));
    dirs.push(dataDir);
    t = await startTestApp({ dataDir });
    const admin = await t.adminToken();
    await t.request('PATCH', '/api/rules/lock-battery-low', {
      token: admin,
      body: { below: 15, comment: 'new cells' },
    });
    await t.stop({ keepData: true });

    t = await startTestApp({ dataDir });
    const again = await t.request<{ versions: Version[] }>('GET', '/api/rules/lock-battery-low/versions', {
      token: await t.adminToken(),
    });
    expect(again.body.versions.map((v) => v.author)).toEqual(['system:config', 'admin']);
    await t.stop({ keepData: true });

    t = await startTestApp({
      dataDir,
      override: (c) => {
        const rule = c.rules.find((r) => r.id === 'office-overheat');
        if (rule?.type === 'threshold') rule.above = 29;
      },
    });
    const token = await t.adminToken();
    const overheatVersions = await t.request<{ versions: Version[] }>('GET', `${OVERHEAT}/versions`, {
      token,
    });
    expect(overheatVersions.body.versions.at(-1)).toMatchObject({
      version: 2,
      author: 'system:config',
      comment: 'the configuration file changed',
      diff: [{ path: 'rule.above', from: 28, to: 29 }],
    });
    const battery = await t.request<{ rules: RuleView[] }>('GET', '/api/rules', { token });
    const view = battery.body.rules.find((r) => r.id === 'lock-battery-low');
    expect(view).toMatchObject({ version: 2 });
    expect(view?.values).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'below', value: 15 })]),
    );
  });

  it('holds a change that affects many assets until a second admin approves it', async () => {
    t = await startTestApp({
      override: (c) => {
        c.tuning.approvalAboveAssets = 2;
      },
    });
    const admin = await t.adminToken();
    const staff = await t.userToken('desk', 'staff');
    const wide = await t.request<Version & { assetsAffected: number }>('PATCH', OVERHEAT, {
      token: admin,
      body: { above: 26, comment: 'summer everywhere' },
    });
    expect(wide.body).toMatchObject({ state: 'pending', version: 2 });
    expect(wide.body.assetsAffected).toBeGreaterThan(2);
    const list = await t.request<{ rules: RuleView[] }>('GET', '/api/rules', { token: staff });
    expect(list.body.rules.find((r) => r.id === 'office-overheat')).toMatchObject({
      version: 1,
      pending: [expect.objectContaining({ version: 2, state: 'pending' })],
    });
    await temperature('xincheng', 27);
    expect(await overheat(staff)).toBeUndefined();

    const own = await t.request('POST', `${OVERHEAT}/versions/2/approve`, { token: admin, body: {} });
    expect(own.status).toBe(403);
    const second = await t.userToken('li', 'admin');
    const approved = await t.request<Version>('POST', `${OVERHEAT}/versions/2/approve`, {
      token: second,
      body: { comment: 'agreed' },
    });
    expect(approved.body).toMatchObject({ state: 'applied' });
    await temperature('xincheng', 27);
    expect(await overheat(staff)).toMatchObject({ alarmActive: true });

    // One asset only: applied at once. A wide one rejected never applies.
    const narrow = await t.request<Version>('PATCH', `${OVERHEAT}/overrides/east/hvac-2f-office`, {
      token: admin,
      body: { above: 22, comment: 'server room next door' },
    });
    expect(narrow.body).toMatchObject({ state: 'applied', version: 3 });
    await t.request('PATCH', OVERHEAT, { token: admin, body: { above: 20, comment: 'too low' } });
    const rejected = await t.request<Version>('POST', `${OVERHEAT}/versions/4/reject`, {
      token: second,
      body: {},
    });
    expect(rejected.body).toMatchObject({ state: 'rejected' });
    const audit = await t.request<{ entries: { action: string; target: string }[] }>(
      'GET',
      '/api/audit?limit=100',
      {
        token: admin,
      },
    );
    const actions = audit.body.entries
      .filter((e) => e.target === 'rule:office-overheat')
      .map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['rule.change', 'rule.approve', 'rule.override', 'rule.reject']),
    );
  });

  it("scores a rule's noise from how its tickets were closed", async () => {
    t = await startTestApp({
      override: (c) => {
        c.tuning.noiseMinTickets = 2;
      },
    });
    const admin = await t.adminToken();
    for (const site of ['xincheng', 'north']) {
      const gw = await t.gateway(site);
      await gw.publishAsync(`${site}/zigbee2mqtt/leak-b1-riser`, JSON.stringify({ water_leak: true }), {
        qos: 1,
      });
    }
    for (const ticket of (await tickets(admin)).filter((x) => x.ruleId === 'water-leak')) {
      const closed = await t.request('POST', `/api/tickets/${ticket.id}/close`, {
        token: admin,
        body: { reason: 'cleaner mopping', resolution: 'no_fault_found' },
      });
      expect(closed.status).toBe(200);
    }
    const noise = await t.request<{
      rules: { ruleId: string; score: number; closed: number; preview: unknown }[];
    }>('GET', '/api/rules/noise', { token: admin });
    expect(noise.body.rules).toEqual([
      expect.objectContaining({
        ruleId: 'water-leak',
        closed: 2,
        score: 1,
        preview: { rule: 'water-leak', changes: {}, days: 30 },
      }),
    ]);
  });
});

/** A parsed config as input again (the loader takes YAML, and JSON is YAML). */
function rawOf(config: Config): Record<string, unknown> {
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}
