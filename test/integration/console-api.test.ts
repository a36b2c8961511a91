import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/api/console.ts';
import type { Config } from '../../src/config/schema.ts';
import { notifySchema } from '../../src/notify/config.ts';
import type { TicketDto } from '../../src/tickets/ticket-dto.ts';
import { startReceiver } from '../helpers/http-receiver.ts';
import { startInfluxd } from '../helpers/influxdb.ts';
import { readSse } from '../helpers/sse.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type Err = { error: { code: string; message: string } };
type Event = { type: string; at: string; actor: string; detail: Record<string, unknown> };
type Detail = TicketDto & { events: Event[]; knowledge: Kb[]; children: TicketDto[] };
type Kb = { id: number; category: string; fault: string | null; hint: string; sourceTicketId: number | null };
type Shift = {
  id: number;
  username: string;
  displayName: string;
  site: string;
  via: string;
  endedAt: string | null;
};
type Label = { kind: string; site: string; assetId: string | null; path: string; url: string };

const PUBLIC_URL = 'https://xiaoer.example.gov.cn';
const INDEX_HTML =
  '<!doctype html><html><head><script type="module" src="/assets/app-1a2b.js"></script></head><body><div id="app"></div></body></html>';

/** A console build as `npm ci` makes it, small: the tests do not depend on the real one being built. */
function fakeConsoleBuild(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-console-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), INDEX_HTML);
  writeFileSync(path.join(dir, 'assets', 'app-1a2b.js'), 'console.log("xiaoer")');
  return dir;
}

describe('the console API', () => {
  let t: TestApp;
  let consoleDir: string;
  let robot: Awaited<ReturnType<typeof startReceiver>>;
  let admin: string;
  let desk: string;
  let wang: string;

  /** A user through the admin API, with the sites they work at; returns their token. */
  const user = async (username: string, role: 'staff' | 'maintainer' | 'admin', sites: string[]) => {
    const res = await t.request('POST', '/api/users', {
      token: admin,
      body: { username, displayName: `${username} 师傅`, role, password: `${username}-password`, sites },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return t.login(username, `${username}-password`);
  };
  const raise = async (site: string, assetId: string, fault: string, token = desk) => {
    const res = await t.request<TicketDto>('POST', '/api/tickets', { token, body: { site, assetId, fault } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const detail = async (id: number, token = admin) =>
    (await t.request<Detail>('GET', `/api/tickets/${id}`, { token })).body;

  beforeEach(async () => {
    consoleDir = fakeConsoleBuild();
    robot = await startReceiver(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
    t = await startTestApp({
      override: (c: Config) => {
        c.shifts = { ...c.shifts, escalateWhenUnstaffed: true };
        c.http = { ...c.http, publicUrl: PUBLIC_URL, consoleDir };
        c.notify = notifySchema.parse({
          webhooks: [
            { id: 'robot', kind: 'wecom', url: `${robot.url}/wecom`, events: ['raised', 'escalated'] },
          ],
        });
      },
    });
    admin = await t.adminToken();
    desk = await user('desk', 'staff', []);
    wang = await user('wang', 'maintainer', ['north']);
  });
  afterEach(async () => {
    await t.stop();
    await robot.close();
    rmSync(consoleDir, { recursive: true, force: true });
  });

  it('keeps a scoped user to their sites: tickets, the live feed, sites, assets, and dispatch', async () => {
    const li = await user('li', 'maintainer', ['xincheng']);
    const northDesk = await user('north-desk', 'staff', ['north']);
    expect((await t.request('GET', '/api/me', { token: wang })).body).toMatchObject({ sites: ['north'] });
    const refused = await t.request<Err>('POST', '/api/users', {
      token: admin,
      body: {
        username: 'zhao',
        displayName: 'zhao',
        role: 'maintainer',
        password: 'zhao-password',
        sites: ['moon'],
      },
    });
    expect([refused.status, refused.body.error.code]).toEqual([400, 'unknown_site']);

    const wangFeed = await readSse(`${t.baseUrl}/api/live?token=${wang}`);
    const deskFeed = await readSse(`${t.baseUrl}/api/live?token=${desk}`);
    try {
      const xincheng = await raise('xincheng', 'leak-b1-riser', 'leak');
      const north = await raise('north', 'lock-3f-east', 'jammed');

      const listed = await t.request<{ tickets: TicketDto[] }>('GET', '/api/tickets', { token: wang });
      expect(listed.body.tickets.map((x) => x.id)).toEqual([north.id]);
      const elsewhere = await t.request<{ tickets: TicketDto[] }>('GET', '/api/tickets?site=xincheng', {
        token: wang,
      });
      expect(elsewhere.body.tickets).toEqual([]);
      expect(
        (await t.request<{ tickets: TicketDto[] }>('GET', '/api/tickets', { token: desk })).body.tickets,
      ).toHaveLength(2);

      // Another site's ticket is as good as unknown, to read or to act on.
      const unknown = await t.request<Err>('GET', '/api/tickets/999', { token: wang });
      const hidden = await t.request<Err>('GET', `/api/tickets/${xincheng.id}`, { token: wang });
      expect([hidden.status, hidden.body.error.code]).toEqual([404, 'not_found']);
      expect(hidden.body.error.message).toBe(unknown.body.error.message.replace('999', String(xincheng.id)));
      for (const action of ['arrive', 'repaired']) {
        const res = await t.request<Err>('POST', `/api/tickets/${xincheng.id}/${action}`, {
          token: wang,
          body: {},
        });
        expect(res.status, action).toBe(404);
      }
      const raiseThere = await t.request<Err>('POST', '/api/tickets', {
        token: northDesk,
        body: { site: 'xincheng', assetId: 'lock-3f-east', fault: 'jammed' },
      });
      expect([raiseThere.status, raiseThere.body.error.code]).toEqual([403, 'other_site']);
      const dispatchHere = await t.request<Err>('POST', `/api/tickets/${xincheng.id}/dispatch`, {
        token: northDesk,
        body: { assignee: 'li' },
      });
      expect(dispatchHere.status).toBe(404);

      // The desk may not send a maintainer to a site they do not work at.
      const wrongSite = await t.request<Err>('POST', `/api/tickets/${xincheng.id}/dispatch`, {
        token: desk,
        body: { assignee: 'wang' },
      });
      expect([wrongSite.status, wrongSite.body.error.code]).toEqual([409, 'assignee_not_at_site']);
      const dispatched = await t.request<TicketDto>('POST', `/api/tickets/${xincheng.id}/dispatch`, {
        token: desk,
        body: { assignee: 'li' },
      });
      expect(dispatched.body.assignee).toBe('li');
      expect((await t.request('POST', `/api/tickets/${xincheng.id}/arrive`, { token: li })).status).toBe(200);

      // The live feed: the xincheng ticket came first, so once wang has the north one, it was skipped.
      const ticketsOf = (feed: typeof wangFeed) =>
        feed.events
          .filter((e) => e.event === 'ticket')
          .map((e) => (JSON.parse(e.data) as { ticket: TicketDto }).ticket.site);
      await waitFor(() => (ticketsOf(wangFeed).includes('north') ? true : undefined), {
        what: "wang's feed",
      });
      await waitFor(
        () => (ticketsOf(deskFeed).filter((s) => s === 'xincheng').length >= 3 ? true : undefined),
        {
          what: "the desk's feed",
        },
      );
      expect(new Set(ticketsOf(wangFeed))).toEqual(new Set(['north']));
    } finally {
      wangFeed.close();
      deskFeed.close();
    }

    const sites = await t.request<{ sites: { id: string; onShift: unknown[] }[] }>('GET', '/api/sites', {
      token: wang,
    });
    expect(sites.body.sites.map((s) => s.id)).toEqual(['north']);
    const meta = await t.request<{
      sites: { id: string }[];
      publicUrl: string;
      categories: { id: string }[];
    }>('GET', '/api/meta', { token: wang });
    expect(meta.body).toMatchObject({
      sites: [{ id: 'north', name: 'North office site' }],
      publicUrl: PUBLIC_URL,
    });
    expect(meta.body.categories).toContainEqual({
      id: 'access',
      name: expect.any(String),
      arrivalMinutes: null,
      repairMinutes: 120,
    });
    const assets = await t.request<{ assets: { site: string }[] }>('GET', '/api/assets', { token: wang });
    expect(new Set(assets.body.assets.map((a) => a.site))).toEqual(new Set(['north']));
    expect((await t.request('GET', '/api/assets/xincheng/leak-b1-riser', { token: wang })).status).toBe(404);
    const lock = await t.request<{ asset: { name: string }; tickets: TicketDto[] }>(
      'GET',
      '/api/assets/north/lock-3f-east',
      { token: wang },
    );
    expect(lock.body.asset.name).toBe('3F east door lock');
    expect(lock.body.tickets.map((x) => x.fault)).toEqual(['jammed']);
    // No InfluxDB in this test: no history to chart.
    const readings = await t.request<{ series: unknown[] }>(
      'GET',
      '/api/assets/north/lock-3f-east/readings',
      {
        token: wang,
      },
    );
    expect([readings.status, readings.body.series]).toEqual([200, []]);
  });

  it('escalates a ticket at once at a site with nobody on shift, and not where somebody checked in', async () => {
    const checkIn = await t.request<Shift>('POST', '/api/shifts/check-in', {
      token: wang,
      body: { site: 'north' },
    });
    expect(checkIn.body).toMatchObject({
      username: 'wang',
      displayName: 'wang 师傅',
      site: 'north',
      via: 'button',
      endedAt: null,
    });
    expect((await t.request<{ shift: Shift }>('GET', '/api/me/shift', { token: wang })).body.shift?.id).toBe(
      checkIn.body.id,
    );
    const other = await t.request<Err>('POST', '/api/shifts/check-in', {
      token: wang,
      body: { site: 'east' },
    });
    expect([other.status, other.body.error.code]).toEqual([403, 'other_site']);
    expect(
      (await t.request<Shift[]>('GET', '/api/shifts', { token: desk })).body.map((s) => s.username),
    ).toEqual(['wang']);
    await user('li', 'maintainer', ['xincheng']);
    const maintainers = await t.request<{ username: string; onShift: boolean; shiftSite: string | null }[]>(
      'GET',
      '/api/maintainers?site=north',
      { token: desk },
    );
    expect(maintainers.body).toEqual([
      { username: 'wang', displayName: 'wang 师傅', sites: ['north'], onShift: true, shiftSite: 'north' },
    ]);
    const sites = await t.request<{ sites: { id: string; onShift: { username: string }[] }[] }>(
      'GET',
      '/api/sites',
      {
        token: desk,
      },
    );
    expect(sites.body.sites.map((s) => [s.id, s.onShift.map((o) => o.username)])).toEqual([
      ['xincheng', []],
      ['north', ['wang']],
      ['east', []],
    ]);

    const staffed = await raise('north', 'lock-3f-east', 'jammed');
    const unstaffed = await raise('xincheng', 'lock-3f-east', 'jammed');
    const escalated = await waitFor(
      async () => (await detail(unstaffed.id)).events.find((e) => e.type === 'escalated'),
      { what: 'the escalation' },
    );
    expect(escalated).toMatchObject({
      at: unstaffed.raisedAt,
      actor: 'system:sla',
      detail: { clock: 'arrival', level: 1, reason: 'nobody_on_shift' },
    });
    expect((await detail(unstaffed.id)).escalation).toEqual({ arrival: 1, repair: 0 });
    // The staffed site's ticket was raised first, so its turn has passed: no escalation.
    expect((await detail(staffed.id)).events.map((e) => e.type)).toEqual(['raised']);
    const message = await waitFor(
      () =>
        robot.received.map((r) => JSON.stringify(r.body)).find((b) => b.includes('升级原因：现场无人值班')),
      { what: 'the robot message' },
    );
    expect(message).toContain(`${PUBLIC_URL}/tickets/${unstaffed.id}`);

    const out = await t.request<Shift>('POST', '/api/shifts/check-out', { token: wang, body: {} });
    expect(out.body.endedAt).not.toBeNull();
    expect((await t.request('GET', '/api/me/shift', { token: wang })).body).toEqual({ shift: null });
    const again = await t.request<Err>('POST', '/api/shifts/check-out', { token: wang });
    expect([again.status, again.body.error.code]).toEqual([404, 'no_shift']);
    const audit = await t.request<{ entries: { action: string }[] }>('GET', '/api/audit', { token: admin });
    expect(audit.body.entries.map((e) => e.action).filter((a) => a.startsWith('shift.'))).toEqual([
      'shift.checked_out',
      'shift.checked_in',
    ]);
  });

  it('checks in and arrives by signed QR labels, and refuses forged ones', async () => {
    await user('zhang', 'maintainer', ['north']);
    const labels = await t.request<Label[]>('GET', '/api/labels?site=north', { token: admin });
    expect(labels.body.filter((l) => l.kind === 'site').map((l) => l.url)).toEqual([
      expect.stringMatching(/^https:\/\/xiaoer\.example\.gov\.cn\/scan\/site\/north\?sig=[0-9a-f]{20}$/),
    ]);
    expect(labels.body.filter((l) => l.kind === 'asset').map((l) => l.assetId)).toEqual([
      'leak-b1-riser',
      'lock-3f-east',
      'hvac-2f-office',
    ]);
    expect((await t.request('GET', '/api/labels?kind=site', { token: admin })).body).toHaveLength(3);
    expect((await t.request('GET', '/api/labels', { token: desk })).status).toBe(403);
    const sig = (kind: string, assetId: string | null) => {
      const label = labels.body.find((l) => l.kind === kind && l.assetId === assetId);
      return new URL(label?.url ?? 'http://x/').searchParams.get('sig') ?? '';
    };
    const scan = (body: Record<string, unknown>) =>
      t.request<{ kind: string; shift?: Shift; ticket?: TicketDto } & Partial<Err>>('POST', '/api/scan', {
        token: wang,
        body,
      });

    const entrance = await scan({ kind: 'site', site: 'north', sig: sig('site', null) });
    expect(entrance.body).toMatchObject({ kind: 'site', shift: { site: 'north', via: 'qr' } });

    const lock = await raise('north', 'lock-3f-east', 'jammed');
    const forged = await scan({
      kind: 'asset',
      site: 'north',
      assetId: 'lock-3f-east',
      sig: sig('asset', 'leak-b1-riser'),
    });
    expect([forged.status, forged.body.error?.code]).toEqual([400, 'bad_signature']);
    const garbage = await scan({
      kind: 'asset',
      site: 'north',
      assetId: 'lock-3f-east',
      sig: 'not-a-signature',
    });
    expect(garbage.status).toBe(400);
    const arrived = await scan({
      kind: 'asset',
      site: 'north',
      assetId: 'lock-3f-east',
      sig: sig('asset', 'lock-3f-east'),
    });
    expect(arrived.body).toMatchObject({
      kind: 'asset',
      ticket: { id: lock.id, status: 'on_site', assignee: 'wang' },
    });
    expect((await detail(lock.id)).events.find((e) => e.type === 'arrived')?.detail).toMatchObject({
      presence: 'qr',
    });

    const nothing = await scan({
      kind: 'asset',
      site: 'north',
      assetId: 'leak-b1-riser',
      sig: sig('asset', 'leak-b1-riser'),
    });
    expect([nothing.status, nothing.body.error?.code]).toEqual([404, 'no_open_ticket']);
    const hvac = await raise('north', 'hvac-2f-office', 'over_temperature');
    await t.request('POST', `/api/tickets/${hvac.id}/dispatch`, { token: desk, body: { assignee: 'zhang' } });
    const notMine = await scan({
      kind: 'asset',
      site: 'north',
      assetId: 'hvac-2f-office',
      sig: sig('asset', 'hvac-2f-office'),
    });
    expect([notMine.status, notMine.body.error?.code]).toEqual([403, 'not_assignee']);

    // A genuine label of a site wang does not work at.
    const xinchengLabels = await t.request<Label[]>('GET', '/api/labels?site=xincheng&kind=site', {
      token: admin,
    });
    const xinchengSig = new URL(xinchengLabels.body[0]?.url ?? 'http://x/').searchParams.get('sig');
    const elsewhere = await scan({ kind: 'site', site: 'xincheng', sig: xinchengSig });
    expect([elsewhere.status, elsewhere.body.error?.code]).toEqual([403, 'other_site']);

    // The button arrival is the maintainer's word only.
    const leak = await raise('north', 'leak-b1-riser', 'leak');
    await t.request('POST', `/api/tickets/${leak.id}/arrive`, { token: wang });
    expect((await detail(leak.id)).events.find((e) => e.type === 'arrived')?.detail).toMatchObject({
      presence: 'unverified',
    });
  });

  it('keeps the knowledge base: edited by admins, shown with the ticket and in robot messages, grown from repair notes', async () => {
    const defaults = await t.request<Kb[]>('GET', '/api/kb?category=lock&fault=offline', { token: wang });
    expect(defaults.body.map((e) => e.hint)).toEqual(['智能门锁离线：先检查门锁处网线是否松动']);
    expect(
      (await t.request<Kb[]>('GET', `/api/kb?q=${encodeURIComponent('网线')}`, { token: desk })).body,
    ).toHaveLength(1);

    const entry = { category: 'plumbing', fault: 'leak', title: '立管漏水', hint: '先关 B1 立管阀门' };
    expect((await t.request('POST', '/api/kb', { token: desk, body: entry })).status).toBe(403);
    const badCategory = await t.request<Err>('POST', '/api/kb', {
      token: admin,
      body: { ...entry, category: 'x' },
    });
    expect([badCategory.status, badCategory.body.error.code]).toEqual([400, 'unknown_category']);
    const tooLong = await t.request('POST', '/api/kb', {
      token: admin,
      body: { ...entry, hint: 'x'.repeat(301) },
    });
    expect(tooLong.status).toBe(400);
    const created = await t.request<Kb>('POST', '/api/kb', { token: admin, body: entry });
    expect(created.status).toBe(201);
    const wide = await t.request<Kb>('POST', '/api/kb', {
      token: admin,
      body: { category: 'plumbing', title: '上下水通用', hint: '带好防水布和扳手' },
    });
    expect(wide.body.fault).toBeNull();
    const edited = await t.request<Kb>('PATCH', `/api/kb/${created.body.id}`, {
      token: admin,
      body: { hint: '先关 B1 立管阀门，再找漏点' },
    });
    expect(edited.body.hint).toBe('先关 B1 立管阀门，再找漏点');

    // The ticket shows the hints for its fault first, then those for its whole category.
    const leak = await raise('north', 'leak-b1-riser', 'leak');
    const shown = (await detail(leak.id, wang)).knowledge.map((e) => e.id);
    const defaultLeak = (
      await t.request<Kb[]>('GET', '/api/kb?category=plumbing&fault=leak', { token: admin })
    ).body.find((e) => e.id !== created.body.id);
    expect(shown).toEqual([created.body.id, defaultLeak?.id, wide.body.id]);
    expect((await detail(leak.id)).children).toEqual([]);

    // Robot messages carry the best hint.
    const lock = await raise('north', 'lock-3f-east', 'offline');
    const raisedMessage = await waitFor(
      () =>
        robot.received
          .map((r) => (r.body as { markdown: { content: string } }).markdown.content)
          .find((c) => c.includes(`#${lock.id}`) && c.includes('新工单')),
      { what: 'the robot message of the lock ticket' },
    );
    expect(raisedMessage).toContain('> 提示：智能门锁离线：先检查门锁处网线是否松动');
    expect(raisedMessage).toContain(`[查看工单](${PUBLIC_URL}/tickets/${lock.id})`);

    // A repair note becomes an entry in one step.
    await t.request('POST', `/api/tickets/${leak.id}/arrive`, { token: wang });
    const noNote = await t.request<Err>('POST', `/api/kb/from-ticket/${leak.id}`, { token: admin, body: {} });
    expect([noNote.status, noNote.body.error.code]).toEqual([400, 'no_repair_note']);
    const repaired = await t.request<TicketDto>('POST', `/api/tickets/${leak.id}/repaired`, {
      token: wang,
      body: { note: '立管阀门密封圈老化，已更换', resolution: 'real_fault' },
    });
    expect(repaired.body).toMatchObject({ status: 'verified', resolution: 'real_fault' });
    // An admin of another site does not get this site's note.
    const xinchengAdmin = await user('xincheng-admin', 'admin', ['xincheng']);
    const otherSite = await t.request<Err>('POST', `/api/kb/from-ticket/${leak.id}`, {
      token: xinchengAdmin,
      body: {},
    });
    expect([otherSite.status, otherSite.body.error.code]).toEqual([404, 'not_found']);
    const fromTicket = await t.request<Kb>('POST', `/api/kb/from-ticket/${leak.id}`, {
      token: admin,
      body: {},
    });
    expect(fromTicket.status).toBe(201);
    expect(fromTicket.body).toMatchObject({
      category: 'plumbing',
      fault: 'leak',
      hint: '立管阀门密封圈老化，已更换',
      sourceTicketId: leak.id,
    });
    const closed = await t.request<TicketDto>('POST', `/api/tickets/${leak.id}/close`, {
      token: desk,
      body: {},
    });
    expect(closed.body.resolution).toBe('real_fault');

    expect((await t.request('DELETE', `/api/kb/${wide.body.id}`, { token: admin })).status).toBe(204);
    expect((await t.request('DELETE', `/api/kb/${wide.body.id}`, { token: admin })).status).toBe(404);
    const audit = await t.request<{ entries: { action: string; actor: string }[] }>('GET', '/api/audit', {
      token: admin,
    });
    expect(audit.body.entries.filter((e) => e.action.startsWith('kb.')).map((e) => e.action)).toEqual([
      'kb.deleted',
      'kb.created',
      'kb.updated',
      'kb.created',
      'kb.created',
    ]);
  });

  it('serves the console with its CSP, caches its hashed files for good, and gives its pages index.html', async () => {
    const get = (url: string, accept = 'text/html,application/xhtml+xml') =>
      fetch(`${t.baseUrl}${url}`, { headers: { accept } });
    const root = await get('/');
    expect(root.status).toBe(200);
    expect(await root.text()).toBe(INDEX_HTML);
    expect(root.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(root.headers.get('cache-control')).toBe('no-cache');
    expect(CONSOLE_CSP).toContain("script-src 'self';");
    expect(CONSOLE_CSP).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");

    const script = await get('/assets/app-1a2b.js', '*/*');
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(script.headers.get('content-type')).toMatch(/javascript/);

    // The console's own routes load on a reload or from a link (a robot message, a QR label).
    for (const page of [
      '/tickets/12',
      '/scan/asset/north/lock-3f-east?sig=0123456789abcdef0123',
      '/assets/north/x',
      '/m',
    ]) {
      const res = await get(page);
      expect(res.status, page).toBe(200);
      expect(await res.text(), page).toBe(INDEX_HTML);
      expect(res.headers.get('content-security-policy'), page).toBe(CONSOLE_CSP);
    }
    // The API and anything that is not a page keep their JSON errors.
    for (const [url, accept] of [
      ['/api/nope', 'text/html'],
      ['/api', 'text/html'],
      ['/api?x=1', 'text/html'],
      ['/missing.js', '*/*'],
      ['/assets/missing.js', 'application/javascript'],
    ] as const) {
      const res = await get(url, accept);
      expect(res.status, url).toBe(404);
      expect(((await res.json()) as Err).error.code, url).toBe('not_found');
    }
    const post = await fetch(`${t.baseUrl}/tickets/12`, { method: 'POST', headers: { accept: 'text/html' } });
    expect(post.status).toBe(404);
    expect((await t.request('GET', '/api/health')).body).toEqual({ status: 'ok' });
  });
});

describe('the console not built', () => {
  it('keeps the API running, with JSON errors for pages', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'xiaoer-no-console-'));
    const t = await startTestApp({
      override: (c) => {
        c.http = { ...c.http, consoleDir: empty };
      },
    });
    try {
      const res = await fetch(`${t.baseUrl}/`, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as Err).error.code).toBe('not_found');
      expect((await t.request('GET', '/api/health')).body).toEqual({ status: 'ok' });
    } finally {
      await t.stop();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("an asset's readings", () => {
  it('are read back from InfluxDB for the chart, per metric with its unit', { timeout: 90_000 }, async () => {
    const influxd = await startInfluxd();
    const t = await startTestApp({
      override: (c) => {
        c.influx = {
          url: influxd.url,
          database: 'xiaoer_console',
          batchSize: 100,
          flushIntervalMs: 50,
          bufferMaxBytes: 16 * 1024 * 1024,
          requestTimeoutMs: 5000,
        };
      },
    });
    try {
      const gw = await t.gateway('north');
      // Distinct times (a second apart, just past), so InfluxDB keeps three points, not one.
      const start = Date.now() - 5000;
      for (const [i, value] of [21.5, 22, 29.5].entries()) {
        const payload = { temperature_c: value, ts: start + i * 1000 };
        await gw.publishAsync('north/xiaoer/hvac/hvac-2f-office/state', JSON.stringify(payload), { qos: 1 });
      }
      const token = await t.adminToken();
      type Series = { metric: string; unit: string | null; points: [string, number][] };
      const read = await waitFor(
        async () => {
          const res = await t.request<{ from: string; to: string; series: Series[] }>(
            'GET',
            '/api/assets/north/hvac-2f-office/readings?hours=1',
            { token },
          );
          const temperature = res.body.series?.find((s) => s.metric === 'temperature_c');
          return temperature?.points.length === 3 ? res.body : undefined;
        },
        { what: 'three temperature readings in InfluxDB' },
      );
      const temperature = read.series.find((s) => s.metric === 'temperature_c');
      expect(temperature?.unit).toBe('°C');
      expect(temperature?.points.map(([, v]) => v)).toEqual([21.5, 22, 29.5]);
      expect(Date.parse(read.to) - Date.parse(read.from)).toBe(3_600_000);
      for (const [at] of temperature?.points ?? []) expect(at).toMatch(/^\d{4}-\d\d-\d\dT/);
      const tooLong = await t.request('GET', '/api/assets/north/hvac-2f-office/readings?hours=10000', {
        token,
      });
      expect(tooLong.status).toBe(400);
    } finally {
      await t.stop();
      await influxd.stop();
    }
  });
});
