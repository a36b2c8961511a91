import path from 'node:path';
import type { Page } from 'playwright-core';
import { create as createQr } from 'qrcode';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { waitFor } from '../helpers/wait.ts';
import { XIAOER_PROCESS_TEST_TIMEOUT_MS } from '../helpers/xiaoer-process.ts';
import {
  type ConsoleHarness,
  fillInput,
  SCREENSHOT_DIR,
  startConsoleHarness,
  USER_PASSWORD,
} from './console-harness.ts';

/**
 * The admin pages in real Chromium against a running xiaoer fed over MQTT: a threshold previewed
 * on the InfluxDB history the gateways published and saved; QR labels whose codes carry the
 * signed URL a maintainer's phone then opens; a maintainer created for one site; a knowledge-base
 * entry; a device first seen on the wire confirmed. Every wait is on what the page or the API shows.
 */

const WAIT = { timeout: 40_000, interval: 200 };
const RULE = 'office-overheat';

interface RuleView {
  id: string;
  version: number;
  values: { field: string; value: unknown; source: string }[];
}
interface Preview {
  readings: number;
  current: { tickets: number };
  proposed: { tickets: number };
}
interface Label {
  kind: 'asset' | 'site';
  site: string;
  assetId: string | null;
  path: string;
  url: string;
}
interface Ticket {
  id: number;
  site: string;
  assetId: string;
  status: string;
  arrival: { at: string | null };
}

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).textContent())?.trim();

/** The office thermostats' readings: above 26 °C now and then, never above the rule's 28. */
const HISTORY: Record<string, number[]> = {
  xincheng: [24.5, 26.5, 27.2, 25, 27.5, 25.5],
  north: [25, 27.1, 24.8],
};

/** A screenshot once the page has settled: no loading mask still fading out over a table. */
async function shot(h: ConsoleHarness, page: Page, name: string): Promise<void> {
  await expect.poll(() => page.locator('.el-loading-mask').count(), WAIT).toBe(0);
  await h.screenshot(page, name);
}

/** Chooses an option of an Element Plus select by their test ids. */
async function choose(page: Page, selectTestId: string, optionTestId: string): Promise<void> {
  await page.getByTestId(selectTestId).click();
  await page.getByTestId(optionTestId).click();
}

/**
 * The dark modules of the QR image in the page, read from its pixels: the symbol spans from the
 * top-left finder's first dark pixel to the top-right finder's last, `size` modules across.
 */
async function qrModulesInPage(page: Page, labelTestId: string, size: number): Promise<boolean[]> {
  return page
    .getByTestId(labelTestId)
    .locator('img[data-testid="label-qr"]')
    .evaluate((img, n) => {
      const image = img as HTMLImageElement;
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error('no 2d context');
      ctx.drawImage(image, 0, 0);
      const { data, width } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const dark = (x: number, y: number) => (data[(y * width + x) * 4] ?? 255) < 128;
      let first = 0;
      while (!dark(first, first)) first++;
      let last = width - 1;
      while (!dark(last, first)) last--;
      const pitch = (last + 1 - first) / n;
      const out: boolean[] = [];
      for (let r = 0; r < n; r++)
        for (let c = 0; c < n; c++)
          out.push(dark(Math.floor(first + (c + 0.5) * pitch), Math.floor(first + (r + 0.5) * pitch)));
      return out;
    }, size);
}

describe('admin pages', () => {
  let h: ConsoleHarness;
  let page: Page;

  beforeAll(async () => {
    h = await startConsoleHarness();
    page = await h.newPage();
    await h.login(page, 'admin');
  }, XIAOER_PROCESS_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(() => {
    onTestFailed(async ({ task }) => {
      await h.screenshot(page, `admin-failed-${task.name.slice(0, 40).replace(/\W+/g, '-')}`);
    });
  });

  it('an admin previews a lower limit on the office thermostats’ history and saves it as a new version', async () => {
    // History over MQTT, as the gateways send it. Readings take their receipt time: one asset's
    // readings each get their own millisecond, so InfluxDB keeps every one.
    let published = 0;
    for (const [site, values] of Object.entries(HISTORY)) {
      for (const value of values) {
        await h.publish(site, `${site}/zigbee2mqtt/hvac-2f-office`, { local_temperature: value });
        published++;
        const at = Date.now();
        await expect.poll(() => Date.now(), WAIT).toBeGreaterThan(at);
      }
    }
    // The preview reads the last 7 days from InfluxDB: wait until the writer has flushed them all.
    await waitFor(
      async () => {
        const res = await h.api<Preview>('admin', 'POST', '/rules/preview', {
          rule: RULE,
          changes: { above: 26 },
        });
        return res.readings === published ? res : undefined;
      },
      { what: `the ${published} readings published in InfluxDB`, intervalMs: 250 },
    );
    const before = (await h.api<{ rules: RuleView[] }>('admin', 'GET', '/rules')).rules.find(
      (r) => r.id === RULE,
    );
    expect(before?.values).toContainEqual(expect.objectContaining({ field: 'above', value: 28 }));
    const version = before?.version ?? 0;

    await page.goto('/admin/rules');
    await page.getByTestId(`rule-row-${RULE}`).waitFor();
    await expect.poll(() => text(page, `rule-version-${RULE}`), WAIT).toBe(`v${version}`);
    await shot(h, page, 'admin-rules');

    await page.getByTestId(`rule-edit-${RULE}`).click();
    await page.getByTestId('rule-field-above').waitFor();
    // A limit no sensor could reach is refused by the API, and said next to the field.
    await fillInput(page, 'rule-field-above', '500');
    await page.getByTestId('rule-preview').click();
    await page.getByTestId('rule-error').waitFor();
    await expect
      .poll(
        () =>
          page
            .locator('.el-form-item.is-error')
            .filter({ has: page.getByTestId('rule-field-above') })
            .count(),
        WAIT,
      )
      .toBe(1);

    await fillInput(page, 'rule-field-above', '26');
    await page.getByTestId('rule-preview').click();
    await page.getByTestId('preview-counts').waitFor();
    // The rule in force (28 °C) raised nothing; at 26 °C each office raises one ticket.
    expect(await text(page, 'preview-current-tickets')).toBe('0');
    expect(await text(page, 'preview-proposed-tickets')).toBe('2');
    const chart = page.getByTestId('preview-chart');
    await chart.locator('svg').waitFor();
    // Both limits drawn as lines with their labels, the readings of both offices, and the raises.
    await expect
      .poll(() => chart.locator('svg text').allTextContents(), WAIT)
      .toEqual(
        expect.arrayContaining([
          '当前阈值 28',
          '新阈值 26',
          'xincheng / hvac-2f-office',
          'north / hvac-2f-office',
        ]),
      );
    await expect(page.getByTestId('preview-assets').locator('tbody tr').count()).resolves.toBe(2);
    // Tall enough for the whole drawer: the screenshot shows the counts, the chart and the assets.
    await page.setViewportSize({ width: 1440, height: 1900 });
    await shot(h, page, 'admin-rules-preview');
    await page.setViewportSize({ width: 1440, height: 900 });

    // Saving needs a reason, asked for by its field.
    await page.getByTestId('rule-save').click();
    await expect
      .poll(
        () =>
          page
            .locator('.el-form-item.is-error')
            .filter({ has: page.getByTestId('rule-reason') })
            .count(),
        WAIT,
      )
      .toBe(1);
    await fillInput(page, 'rule-reason', '2F 办公室夏季午后常到 27 ℃，提前预警');
    await page.getByTestId('rule-save').click();
    await expect.poll(() => text(page, 'rule-saved'), WAIT).toContain(`第 ${version + 1} 版`);

    const after = (await h.api<{ rules: RuleView[] }>('admin', 'GET', '/rules')).rules.find(
      (r) => r.id === RULE,
    );
    expect(after?.version).toBe(version + 1);
    expect(after?.values).toContainEqual(
      expect.objectContaining({ field: 'above', value: 26, source: 'kind' }),
    );
    await expect.poll(() => text(page, 'rule-editor-version'), WAIT).toBe(`第 ${version + 1} 版`);
    await expect.poll(() => text(page, `rule-version-${RULE}`), WAIT).toBe(`v${version + 1}`);

    // The history lists the new version with its reason and diff, and the old one can be restored.
    await page.getByRole('tab', { name: '版本历史' }).click();
    const latest = page.getByTestId(`rule-history-${version + 1}`);
    await latest.waitFor();
    expect(await latest.textContent()).toContain('提前预警');
    expect(await latest.textContent()).toMatch(/above.*28.*26/);
    await page.getByTestId(`rule-restore-${version}`).waitFor();
    await shot(h, page, 'admin-rules-history');
  });

  it("lists a noisy rule's score to the admin and to the service desk", async () => {
    // Five jammed-lock alarms at east, each closed as no fault found: the rule scores 100 %.
    const topic = 'east/zigbee2mqtt/lock-3f-east';
    for (let i = 0; i < 5; i++) {
      await h.publish('east', topic, { lock_state: 'not_fully_locked' });
      const ticket = await waitFor(
        async () => {
          const { tickets } = await h.api<{ tickets: (Ticket & { ruleId: string })[] }>(
            'admin',
            'GET',
            '/tickets?open=true&site=east',
          );
          return tickets.find((t) => t.ruleId === 'lock-jammed');
        },
        { what: `jammed-lock ticket ${i + 1}` },
      );
      await h.publish('east', topic, { lock_state: 'locked' });
      await h.api('admin', 'POST', `/tickets/${ticket.id}/close`, {
        reason: 'door was only ajar',
        resolution: 'no_fault_found',
      });
    }
    await page.goto('/admin/noise');
    const row = page.getByTestId('noise-row-lock-jammed');
    await row.waitFor();
    await expect.poll(async () => (await row.textContent())?.includes('100%'), WAIT).toBe(true);
    await shot(h, page, 'admin-noise');

    const desk = await h.newPage();
    await h.login(desk, 'desk');
    await desk.goto('/admin/noise');
    await desk.getByTestId('noise-row-lock-jammed').waitFor();
    // The rest of the admin pages are not the desk's.
    await desk.goto('/admin/rules');
    await desk.waitForURL((url) => url.pathname === '/board');
  });

  it('prints QR labels whose codes carry the signed URL, which a maintainer of the site opens to arrive', async () => {
    const labels = await h.api<Label[]>('admin', 'GET', '/labels');
    const asset = labels.find(
      (l) => l.kind === 'asset' && l.site === 'xincheng' && l.assetId === 'leak-b1-riser',
    );
    const entrance = labels.find((l) => l.kind === 'site' && l.site === 'xincheng');
    expect(asset?.path).toMatch(/^\/scan\/asset\/xincheng\/leak-b1-riser\?sig=[0-9a-f]{20}$/);
    expect(entrance?.path).toMatch(/^\/scan\/site\/xincheng\?sig=[0-9a-f]{20}$/);
    if (!asset || !entrance) throw new Error('no labels for xincheng');

    await page.goto('/admin/labels');
    const label = page.getByTestId('label-xincheng-leak-b1-riser');
    await label.locator('img[data-testid="label-qr"]').waitFor();
    await page.getByTestId('label-site-xincheng').waitFor();
    expect(await label.getByTestId('label-url').textContent()).toBe(asset.url);
    expect(new URL(asset.url).pathname + new URL(asset.url).search).toBe(asset.path);
    // One label per confirmed asset and per site entrance, each with its code.
    await expect
      .poll(() => page.locator('[data-testid^="label-"] img[data-testid="label-qr"]').count(), WAIT)
      .toBe(labels.length);
    // The code in the image is the URL: its modules, read from the pixels, are the URL's.
    const expected = createQr(asset.url, { errorCorrectionLevel: 'M' }).modules;
    const modules = await qrModulesInPage(page, 'label-xincheng-leak-b1-riser', expected.size);
    const mismatches = modules.filter((dark, i) => dark !== Boolean(expected.data[i])).length;
    expect(mismatches).toBe(0);
    await shot(h, page, 'admin-labels');
    // Printed: 3 × 4 on A4, without the top bar or the toolbar.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.topbar').isVisible()).toBe(false);
    expect(await page.getByTestId('labels-print').isVisible()).toBe(false);
    const columns = await page
      .locator('.label-sheet')
      .first()
      .evaluate((el) => getComputedStyle(el).gridTemplateColumns.split(' ').length);
    expect(columns).toBe(3);
    await page.setViewportSize({ width: 794, height: 1123 });
    await shot(h, page, 'admin-labels-print');
    // As Chromium prints it: one A4 page per sheet of 12.
    const pdf = await page.pdf({
      path: path.join(SCREENSHOT_DIR, 'admin-labels.pdf'),
      preferCSSPageSize: true,
    });
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length;
    expect(pages).toBe(Math.ceil(labels.length / 12));
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.emulateMedia({ media: 'screen' });

    // A leak at xincheng, then wang (a maintainer there) opens the label's URL on his phone.
    await h.publish('xincheng', 'xincheng/zigbee2mqtt/leak-b1-riser', { water_leak: true });
    const ticket = await waitFor(
      async () => {
        const { tickets } = await h.api<{ tickets: Ticket[] }>('admin', 'GET', '/tickets?open=true');
        return tickets.find((t) => t.site === 'xincheng' && t.assetId === 'leak-b1-riser');
      },
      { what: 'the leak ticket at xincheng' },
    );
    const phone = await h.newPage({ width: 375, height: 812, mobile: true });
    await h.login(phone, 'wang', USER_PASSWORD);
    await phone.goto(asset.path);
    await expect
      .poll(async () => (await h.api<Ticket>('admin', 'GET', `/tickets/${ticket.id}`)).status, WAIT)
      .toBe('on_site');
    const arrived = await h.api<Ticket & { events: { type: string; detail: Record<string, unknown> }[] }>(
      'admin',
      'GET',
      `/tickets/${ticket.id}`,
    );
    expect(arrived.events.find((e) => e.type === 'arrived')?.detail.presence).toBe('qr');
  });

  it('creates a maintainer who works at one site only', async () => {
    await page.goto('/admin/users');
    await page.getByTestId('user-row-wang').waitFor();
    await page.getByTestId('user-add').click();
    await fillInput(page, 'user-username', 'zhao');
    await fillInput(page, 'user-display-name', '赵师傅');
    await page.getByTestId('user-role-maintainer').click();
    await choose(page, 'user-sites', 'user-site-north');
    await page.getByTestId('user-display-name').click();
    await fillInput(page, 'user-password', USER_PASSWORD);
    await shot(h, page, 'admin-users-add');
    await page.getByTestId('user-submit').click();
    const row = page.getByTestId('user-row-zhao');
    await row.waitFor();
    expect(await row.textContent()).toContain('赵师傅');
    expect(await text(page, 'user-sites-zhao')).toBe('North office site');

    const { users } = await h.api<{ users: { username: string; role: string; sites: string[] }[] }>(
      'admin',
      'GET',
      '/users',
    );
    expect(users.find((u) => u.username === 'zhao')).toMatchObject({ role: 'maintainer', sites: ['north'] });
    // The API holds zhao to his site.
    const meta = await h.api<{ sites: { id: string }[] }>('zhao', 'GET', '/meta');
    expect(meta.sites.map((s) => s.id)).toEqual(['north']);
    await shot(h, page, 'admin-users');
  });

  it('adds a knowledge-base entry for a category and fault code', async () => {
    await page.goto('/admin/kb');
    await page.locator('[data-testid^="kb-row-"]').first().waitFor();
    await page.getByTestId('kb-add').click();
    await choose(page, 'kb-category', 'kb-category-hvac');
    await fillInput(page, 'kb-fault', 'over_temperature');
    await page.keyboard.press('Tab');
    const title = '办公室过热 Office too warm';
    await fillInput(page, 'kb-title', title);
    await fillInput(page, 'kb-hint', '办公室过热：先看空调面板是否在制冷模式，再查回风滤网');
    await fillInput(page, 'kb-body', '午后西晒时室温上升快，先确认遮阳帘。');
    await page.getByTestId('kb-submit').click();

    const entry = await waitFor(
      async () =>
        (
          await h.api<{ id: number; title: string; fault: string | null }[]>(
            'admin',
            'GET',
            '/kb?category=hvac',
          )
        ).find((e) => e.title === title),
      { what: 'the new entry in the knowledge base' },
    );
    expect(entry.fault).toBe('over_temperature');
    await fillInput(page, 'kb-search', '过热');
    await page.getByTestId(`kb-row-${entry.id}`).waitFor();
    await fillInput(page, 'kb-search', '');
    await shot(h, page, 'admin-kb');
  });

  it('confirms a device first seen on the wire', async () => {
    await h.publish('east', 'east/zigbee2mqtt/hvac-3f-meeting', { local_temperature: 23.5 });
    await expect
      .poll(async () => {
        const { assets } = await h.api<{ assets: { id: string; status: string }[] }>(
          'admin',
          'GET',
          '/assets?site=east&status=unconfirmed',
        );
        return assets.map((a) => a.id);
      }, WAIT)
      .toContain('hvac-3f-meeting');
    await page.goto('/admin/assets');
    const confirm = page.getByTestId('asset-confirm-east-hvac-3f-meeting');
    await confirm.waitFor();
    await page.getByTestId('assets-unconfirmed').waitFor();
    await shot(h, page, 'admin-assets');
    await confirm.click();
    // Discovered as `unknown`: the admin gives it the kind whose rules should run, and its category follows.
    await choose(page, 'asset-kind', 'asset-kind-hvac');
    await fillInput(page, 'asset-name', '3F meeting room thermostat');
    await fillInput(page, 'asset-location', '3F meeting room');
    await shot(h, page, 'admin-assets-confirm');
    await page.getByTestId('asset-confirm-submit').click();
    await expect.poll(() => confirm.count(), WAIT).toBe(0);
    const { assets } = await h.api<{ assets: { id: string; status: string; name: string; kind: string }[] }>(
      'admin',
      'GET',
      '/assets?site=east',
    );
    expect(assets.find((a) => a.id === 'hvac-3f-meeting')).toMatchObject({
      status: 'confirmed',
      kind: 'hvac',
      category: 'hvac',
      name: '3F meeting room thermostat',
    });
    expect(await page.getByTestId('asset-row-east-hvac-3f-meeting').textContent()).toContain(
      '3F meeting room',
    );
  });

  it('speaks English when asked', async () => {
    await page.goto('/admin/rules');
    await page.getByTestId(`rule-row-${RULE}`).waitFor();
    await page.getByTestId('language').selectOption('en');
    await expect.poll(() => page.locator('h1').textContent(), WAIT).toBe('Alert rules');
    expect(await page.getByTestId(`rule-row-${RULE}`).textContent()).toContain('Above 26 °C');
    await shot(h, page, 'admin-rules-en');
    await page.goto('/admin/labels');
    await page.getByTestId('label-site-xincheng').waitFor();
    expect(await page.getByTestId('label-site-xincheng').textContent()).toContain(
      'Scan to check in for your shift',
    );
    await page.getByTestId('language').selectOption('zh-CN');
    await expect.poll(() => page.locator('h1').textContent(), WAIT).toBe('二维码标签');
  });
});
