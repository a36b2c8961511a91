import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoWeekOf } from '../../dashboards/console/src/components/reports/period.ts';
import { XIAOER_PROCESS_TEST_TIMEOUT_MS } from '../helpers/xiaoer-process.ts';
import { type ConsoleHarness, fillInput, startConsoleHarness } from './console-harness.ts';

/**
 * Issue 13 in the console, in real Chromium against a running xiaoer fed over MQTT: leaks raised
 * at two sites are dispatched, arrived at, repaired, verified by their sensors and closed through
 * the API; a jammed lock stays open. The reports page then shows the figures GET /api/reports/sla,
 * /timings and /faults give for the same filter; the desk records a satisfaction call-back from
 * the board; a ticket is found by its work-order number; the weekly report downloads as CSV.
 */

const WAIT = { timeout: 40_000, interval: 200 };

interface TicketLite {
  id: number;
  site: string;
  assetId: string;
  ruleId: string;
  status: string;
  workOrder?: string | null;
}
interface Compliance {
  total: number;
  met: number;
  breached: number;
  compliance: number | null;
}
interface SlaAnswer {
  groups: { key: string; arrival: Compliance; repair: Compliance }[];
}

const leakTopic = (site: string) => `${site}/zigbee2mqtt/leak-b1-riser`;
const attr = (page: Page, testId: string, name: string) => page.getByTestId(testId).getAttribute(name);

/** The headline numbers of GET /api/reports/sla (groupBy none): every group summed. */
function headline(sla: SlaAnswer): { arrival: Compliance; repair: Compliance } {
  const sum = (pick: (g: SlaAnswer['groups'][number]) => Compliance): Compliance => {
    const c = sla.groups.reduce(
      (acc, g) => ({ total: acc.total + pick(g).total, met: acc.met + pick(g).met, breached: 0 }),
      { total: 0, met: 0, breached: 0 },
    );
    return { ...c, compliance: c.total ? c.met / c.total : null };
  };
  return { arrival: sum((g) => g.arrival), repair: sum((g) => g.repair) };
}

describe('reports, call-backs and work-order numbers in the console', () => {
  let h: ConsoleHarness;
  let board: Page;
  const closed: TicketLite[] = [];
  let open: TicketLite | undefined;
  const week = isoWeekOf(Date.now());

  beforeAll(async () => {
    // A short verification hold, so repaired leaks verify once their sensors are clear.
    h = await startConsoleHarness({ escalateWhenUnstaffed: false, verifyMinutes: 0.05 });
  }, XIAOER_PROCESS_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await h?.stop();
  });

  /** The open ticket a rule raised at a site's asset, waited for. */
  async function raised(site: string, assetId: string): Promise<TicketLite> {
    let found: TicketLite | undefined;
    await expect
      .poll(async () => {
        const { tickets } = await h.api<{ tickets: TicketLite[] }>(
          'desk',
          'GET',
          `/tickets?open=true&site=${site}`,
        );
        found = tickets.find((t) => t.assetId === assetId);
        return found !== undefined;
      }, WAIT)
      .toBe(true);
    return found as TicketLite;
  }

  async function status(id: number): Promise<string> {
    return (await h.api<TicketLite>('desk', 'GET', `/tickets/${id}`)).status;
  }

  it('generates tickets over MQTT and works two leaks through to closed by the API', async () => {
    for (const [site, who] of [
      ['xincheng', 'wang'],
      ['north', 'li'],
    ] as const) {
      await h.publish(site, leakTopic(site), { water_leak: true, battery: 90, linkquality: 110 });
      const ticket = await raised(site, 'leak-b1-riser');
      expect(ticket.workOrder ?? null, 'the ticket carries its work-order number').toMatch(
        /^[A-Z]{2,}-\d{8}-\d{3}$/,
      );
      await h.api('desk', 'POST', `/tickets/${ticket.id}/dispatch`, { assignee: who });
      await h.api(who, 'POST', `/tickets/${ticket.id}/arrive`, {});
      await h.api(who, 'POST', `/tickets/${ticket.id}/repaired`, {
        resolution: 'real_fault',
        note: '更换密封圈',
      });
      await h.publish(site, leakTopic(site), { water_leak: false, battery: 90, linkquality: 110 });
      await expect.poll(() => status(ticket.id), WAIT).toBe('verified');
      await h.api('desk', 'POST', `/tickets/${ticket.id}/close`, {});
      closed.push(ticket);
    }
    // A jammed lock at east stays open: it counts in the period, its clocks still running.
    await h.publish('east', 'east/zigbee2mqtt/lock-3f-east', { lock_state: 'not_fully_locked' });
    open = await raised('east', 'lock-3f-east');
    expect(closed).toHaveLength(2);
  });

  it('shows on the reports page the figures GET /api/reports/sla gives for the same filter', async () => {
    board = await h.newPage();
    await h.login(board, 'desk');
    await board.locator('[data-nav="reports"]').click();
    await board.waitForURL('**/reports');
    expect(await board.getByTestId('report-period-label').textContent()).toContain(week);

    const api = headline(await h.api<SlaAnswer>('desk', 'GET', `/reports/sla?week=${week}&groupBy=none`));
    expect(api.arrival.total).toBeGreaterThanOrEqual(2);
    expect(api.arrival.met).toBeGreaterThanOrEqual(2);
    await expect.poll(() => attr(board, 'kpi-arrival', 'data-total'), WAIT).toBe(String(api.arrival.total));
    expect(await attr(board, 'kpi-arrival', 'data-met')).toBe(String(api.arrival.met));
    expect(await attr(board, 'kpi-repair', 'data-total')).toBe(String(api.repair.total));
    expect(await attr(board, 'kpi-repair', 'data-met')).toBe(String(api.repair.met));
    expect(Number(await attr(board, 'kpi-arrival', 'data-compliance'))).toBeCloseTo(
      api.arrival.compliance ?? -1,
      6,
    );
    expect(await board.getByTestId('kpi-arrival').textContent()).toContain(
      `${Math.round((api.arrival.compliance ?? 0) * 1000) / 10}%`,
    );

    // Per site: the table's rows hold the API's compliance per group.
    const bySite = await h.api<SlaAnswer>('desk', 'GET', `/reports/sla?week=${week}&groupBy=site`);
    for (const g of bySite.groups) {
      await expect
        .poll(() => attr(board, `sla-group-${g.key}`, 'data-arrival'), WAIT)
        .toBe(g.arrival.compliance === null ? '' : String(g.arrival.compliance));
    }
    await expect
      .poll(() => attr(board, 'chart-compliance', 'data-groups'), WAIT)
      .toBe(String(bySite.groups.length));

    // The fault mix: plumbing's count and share as the API gives them.
    const faults = await h.api<{
      total: number;
      byCategory: { key: string; count: number; share: number }[];
    }>('desk', 'GET', `/reports/faults?week=${week}`);
    const plumbing = faults.byCategory.find((c) => c.key === 'plumbing');
    expect(plumbing?.count).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => attr(board, 'fault-cat-plumbing', 'data-count'), WAIT)
      .toBe(String(plumbing?.count));
    expect(await board.getByTestId('fault-total').textContent()).toBe(String(faults.total));

    // MTTA and MTTR: median and 90th percentile as GET /api/reports/timings.
    const timings = await h.api<
      Record<'dispatch' | 'repair', { medianSeconds: number | null; p90Seconds: number | null }>
    >('desk', 'GET', `/reports/timings?week=${week}`);
    expect(await attr(board, 'kpi-mtta', 'data-median')).toBe(String(timings.dispatch.medianSeconds ?? ''));
    expect(await attr(board, 'kpi-mttr', 'data-p90')).toBe(String(timings.repair.p90Seconds ?? ''));
    await board.getByTestId('score-weights').waitFor();
    await h.screenshot(board, 'reports');

    // The same filter narrowed to one site and category: the page follows the API again.
    await board.getByTestId('report-site').selectOption('xincheng');
    await board.getByTestId('report-category').selectOption('plumbing');
    const narrow = headline(
      await h.api<SlaAnswer>(
        'desk',
        'GET',
        `/reports/sla?week=${week}&site=xincheng&category=plumbing&groupBy=none`,
      ),
    );
    expect(narrow.arrival.total).toBe(1);
    await expect
      .poll(() => attr(board, 'kpi-arrival', 'data-total'), WAIT)
      .toBe(String(narrow.arrival.total));
    expect(await attr(board, 'kpi-arrival', 'data-met')).toBe(String(narrow.arrival.met));
    expect(await attr(board, 'kpi-repair', 'data-met')).toBe(String(narrow.repair.met));

    // A custom range holding today gives the same figures as the week.
    await board.getByTestId('report-period').selectOption('range');
    await board.getByTestId('report-group-by').selectOption('maintainer');
    await expect
      .poll(() => attr(board, 'kpi-arrival', 'data-total'), WAIT)
      .toBe(String(narrow.arrival.total));
    await board.getByTestId('score-weights').waitFor();
    await h.screenshot(board, 'reports-filtered');
  });

  it('downloads the weekly report as CSV with the session token', async () => {
    await board.getByTestId('report-period').selectOption('thisWeek');
    const download = board.waitForEvent('download', WAIT);
    await board.getByTestId('download-csv').click();
    // The download, or the page's error (which would say why) — whichever comes first.
    const failed = board
      .getByTestId('download-error')
      .waitFor(WAIT)
      .then(() => board.getByTestId('download-error').textContent())
      // The loser of the race must not end up an unhandled rejection.
      .catch(() => new Promise<never>(() => {}));
    download.catch(() => {});
    const outcome = await Promise.race([download, failed]);
    if (typeof outcome === 'string' || outcome === null) throw new Error(`download failed: ${outcome}`);
    expect(outcome.suggestedFilename()).toMatch(/\.csv$/);
    const csv = readFileSync(await outcome.path(), 'utf8');
    expect(csv.length).toBeGreaterThan(20);
    expect(csv).toContain(week);
  });

  it('lists the closed tickets as call-backs due on the board and records one', async () => {
    const [first, second] = closed as [TicketLite, TicketLite];
    await board.goto('/board');
    const panel = board.getByTestId('callbacks-due');
    await board.getByTestId(`callback-${first.id}`).waitFor();
    await board.getByTestId(`callback-${second.id}`).waitFor();
    expect(Number(await panel.getAttribute('data-count'))).toBeGreaterThanOrEqual(2);
    expect(await board.getByTestId(`callback-${first.id}`).getAttribute('data-overdue')).toBe('false');
    await h.screenshot(board, 'board-callbacks');

    await board.getByTestId(`callback-${first.id}`).click();
    await board.getByTestId('callback-score').locator('.el-rate__item').nth(3).click();
    await expect.poll(() => attr(board, 'callback-score', 'data-score'), WAIT).toBe('4');
    await fillInput(board, 'callback-remark', '维修及时，师傅态度好');
    await h.screenshot(board, 'callback-dialog');
    await board.getByTestId('callback-submit').click();
    await board.getByTestId(`callback-${first.id}`).waitFor({ state: 'detached' });

    const { callbacks } = await h.api<{
      callbacks: {
        ticket: { id: number };
        callback: { reached: boolean; score: number | null; remark: string | null } | null;
      }[];
    }>('desk', 'GET', '/callbacks?due=false');
    const recorded = callbacks.find((c) => c.ticket.id === first.id);
    expect(recorded?.callback).toMatchObject({ reached: true, score: 4, remark: '维修及时，师傅态度好' });

    // The other reporter could not be reached: recorded without a score.
    await board.getByTestId(`callback-${second.id}`).click();
    await board.getByTestId('callback-not-reached').click();
    await board.getByTestId('callback-submit').click();
    await board.getByTestId(`callback-${second.id}`).waitFor({ state: 'detached' });
  });

  it('shows work-order numbers on the board and the ticket page, and finds a ticket by its number', async () => {
    const lock = open as TicketLite;
    const [first] = closed as [TicketLite];
    await board.goto('/board');
    await board.getByTestId(`ticket-row-${lock.id}`).waitFor();
    expect(await board.getByTestId(`work-order-${lock.id}`).textContent()).toBe(lock.workOrder);

    // Typing narrows the live rows; Enter asks the API, which finds closed tickets too.
    await fillInput(board, 'ticket-search', lock.workOrder ?? '');
    await expect.poll(() => board.locator('[data-testid^="ticket-row-"]').count(), WAIT).toBe(1);
    await fillInput(board, 'ticket-search', first.workOrder ?? '');
    await board.getByTestId('ticket-search-submit').click();
    const result = board.getByTestId(`search-result-${first.id}`);
    await result.waitFor();
    expect(await result.getAttribute('data-work-order')).toBe(first.workOrder);
    expect(await board.getByTestId('ticket-search-results').getAttribute('data-count')).toBe('1');
    await h.screenshot(board, 'board-search');

    await result.click();
    await board.waitForURL(`**/tickets/${first.id}`);
    expect(await board.getByTestId('ticket-work-order').textContent()).toBe(first.workOrder);
    await h.screenshot(board, 'ticket-work-order');
  });

  it("shows the work-order number on the maintainer's phone, and the reports page in English", async () => {
    await h.publish('xincheng', leakTopic('xincheng'), { water_leak: true, battery: 88, linkquality: 100 });
    const leak = await raised('xincheng', 'leak-b1-riser');
    const phone = await h.newPage({ width: 375, height: 812, mobile: true });
    await h.login(phone, 'wang');
    const number = phone.getByTestId(`my-work-order-${leak.id}`);
    await number.waitFor();
    expect(await number.textContent()).toBe(leak.workOrder);
    await h.screenshot(phone, 'phone-work-order');

    // wang's reports cover xincheng only (the API scopes them), and fit a phone's width.
    await phone.goto('/reports');
    const mine = headline(await h.api<SlaAnswer>('wang', 'GET', `/reports/sla?week=${week}&groupBy=none`));
    await expect.poll(() => attr(phone, 'kpi-arrival', 'data-total'), WAIT).toBe(String(mine.arrival.total));
    await phone.getByTestId('sla-group-xincheng').waitFor();
    expect(await phone.getByTestId('sla-group-north').count()).toBe(0);
    const overflow = await phone.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await h.screenshot(phone, 'reports-phone');

    await board.goto('/reports');
    await board.getByTestId('language').selectOption('en');
    await expect
      .poll(() => board.getByTestId('kpi-arrival').textContent(), WAIT)
      .toContain('Arrival on time');
    await board.getByTestId('score-weights').waitFor();
    await h.screenshot(board, 'reports-en');
    await board.getByTestId('language').selectOption('zh-CN');
  });
});
