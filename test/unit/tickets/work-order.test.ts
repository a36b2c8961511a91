import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import {
  defaultSiteCode,
  localDay,
  workOrderNumber,
  workOrderPrefix,
} from '../../../src/domain/work-order.ts';
import type { Store } from '../../../src/store/store.ts';
import { ticketHarness } from '../../helpers/domain.ts';
import { ManualScheduler } from '../../helpers/manual-scheduler.ts';

// 2026-12-01 23:59 and 2026-12-02 00:00 in Shanghai (UTC+8): still 1 December in UTC both times.
const LAST_MINUTE = Date.parse('2026-12-01T15:59:00Z');
const MIDNIGHT = Date.parse('2026-12-01T16:00:00Z');
const DESK = { name: 'desk' };

describe('work-order numbers', () => {
  it('dates a number by the local day of detection, not the UTC one', () => {
    expect(localDay(LAST_MINUTE, 'Asia/Shanghai')).toBe('20261201');
    expect(localDay(MIDNIGHT, 'Asia/Shanghai')).toBe('20261202');
    expect(localDay(MIDNIGHT, 'UTC')).toBe('20261201');
    expect(workOrderPrefix('XC', MIDNIGHT, 'Asia/Shanghai')).toBe('XC-20261202');
  });

  it('writes the sequence in three digits at least', () => {
    expect(workOrderNumber('XC-20261201', 7)).toBe('XC-20261201-007');
    expect(workOrderNumber('XC-20261201', 1234)).toBe('XC-20261201-1234');
  });

  it("defaults a site's code to its id's first two letters, upper-cased", () => {
    expect(defaultSiteCode('north')).toBe('NO');
    expect(defaultSiteCode('xincheng')).toBe('XI');
  });
});

const site = (id: string, code?: string) =>
  `  - { id: ${id}, name: ${id}, ${code ? `code: ${code}, ` : ''}gateway: { username: ${id}-gw, password: pw } }\n`;

function configIssues(sites: string): string[] {
  try {
    parseConfigText(`categories: { plumbing: { name: Plumbing } }\nsites:\n${sites}`, 'test.yaml');
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

describe('site codes in the config', () => {
  it('refuses two sites whose default codes collide, telling to set `code`', () => {
    expect(configIssues(site('xincheng') + site('xinhua'))).toEqual([
      'sites[1].id: site code "XI" (from the id) is already site "xincheng"\'s; set `code` (2 to 4 upper-case letters) to tell their work-order numbers apart (site "xinhua")',
    ]);
    expect(configIssues(site('xincheng', 'XC') + site('xinhua'))).toEqual([]);
  });

  it('refuses a code given twice, or one that is not 2 to 4 upper-case letters', () => {
    expect(configIssues(site('xincheng', 'XC') + site('north', 'XC'))).toEqual([
      'sites[1].code: site code "XC" is already site "xincheng"\'s; set `code` (2 to 4 upper-case letters) to tell their work-order numbers apart (site "north")',
    ]);
    expect(configIssues(site('xincheng', 'xc'))).toEqual([
      'sites[0].code: expected 2 to 4 upper-case letters, e.g. XC (site "xincheng")',
    ]);
    expect(configIssues(site('xincheng', 'XCDEF'))).toHaveLength(1);
  });
});

describe('work-order numbers of new tickets', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
  });

  async function harness(now: number) {
    const scheduler = new ManualScheduler(now);
    const h = await ticketHarness(':memory:', scheduler);
    store = h.store;
    const raise = (siteId: string, assetId: string) =>
      h.tickets.raiseManual({ site: siteId, assetId, fault: 'leak', category: 'plumbing' }, DESK);
    return { ...h, scheduler, raise };
  }

  it("numbers a site's tickets per local day: 23:59 and 00:00 in Shanghai are two days", async () => {
    const h = await harness(LAST_MINUTE);
    const evening = await h.raise('xincheng', 'leak-b1-riser');
    const late = await h.raise('xincheng', 'lock-3f-east');
    await h.scheduler.advanceTo(MIDNIGHT);
    const night = await h.raise('xincheng', 'hvac-2f-office');
    expect([evening.workOrder, late.workOrder, night.workOrder]).toEqual([
      'XC-20261201-001',
      'XC-20261201-002',
      'XC-20261202-001',
    ]);
  });

  it('numbers each site on its own, by its code (configured, or from the id)', async () => {
    const h = await harness(MIDNIGHT);
    const xincheng = await h.raise('xincheng', 'leak-b1-riser');
    const north = await h.raise('north', 'leak-b1-riser');
    const north2 = await h.raise('north', 'lock-3f-east');
    expect([xincheng.workOrder, north.workOrder, north2.workOrder]).toEqual([
      'XC-20261202-001',
      'NO-20261202-001',
      'NO-20261202-002',
    ]);
  });

  it('gives two tickets raised at once two numbers, and a refused ticket none', async () => {
    const h = await harness(MIDNIGHT);
    const both = await Promise.all([h.raise('east', 'leak-b1-riser'), h.raise('east', 'lock-3f-east')]);
    expect(both.map((t) => t.workOrder).sort()).toEqual(['EA-20261202-001', 'EA-20261202-002']);
    // The same fault again is refused, and takes no number.
    await expect(h.raise('east', 'leak-b1-riser')).rejects.toMatchObject({ code: 'ticket_exists' });
    expect((await h.raise('east', 'hvac-2f-office')).workOrder).toBe('EA-20261202-003');
  });
});
