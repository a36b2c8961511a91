import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Directory } from '../../../src/config/directory.ts';
import { ShiftService } from '../../../src/shifts/shift-service.ts';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';
import { exampleConfig, silentLog } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-11-26T01:00:00Z');
const HOUR = 3_600_000;
const wang = { username: 'wang', sites: ['xincheng', 'north'] };
const li = { username: 'li', sites: [] };

describe('ShiftService', () => {
  let store: SqliteStore;
  let now: number;
  const directory = new Directory(exampleConfig());
  const service = () =>
    new ShiftService({ store, directory, clock: { now: () => now }, log: silentLog, maxHours: 12 });
  beforeEach(async () => {
    now = T0;
    store = new SqliteStore(':memory:');
    await store.migrate();
  });
  afterEach(() => store.close());

  const audit = async () =>
    (await store.listAudit({ limit: 100, offset: 0 }))
      .reverse()
      .map((e) => [e.actor, e.action, e.detail.site, e.detail.reason ?? null]);

  it('checks in at a site, which is then staffed, and out again', async () => {
    const shifts = service();
    await shifts.start();
    expect(shifts.staffed('xincheng')).toBe(false);
    const shift = await shifts.checkIn(wang, 'xincheng', 'qr');
    expect(shift).toMatchObject({ username: 'wang', site: 'xincheng', startedAt: T0, via: 'qr' });
    expect(shifts.staffed('xincheng')).toBe(true);
    expect(shifts.staffed('north')).toBe(false);
    expect(shifts.current('wang')).toEqual(shift);
    // Scanning the entrance label again changes nothing.
    now += 60_000;
    expect(await shifts.checkIn(wang, 'xincheng', 'button')).toEqual(shift);
    now += HOUR;
    expect(await shifts.checkOut('wang')).toMatchObject({ id: shift.id, endedAt: T0 + HOUR + 60_000 });
    expect(shifts.staffed('xincheng')).toBe(false);
    expect(shifts.current('wang')).toBeUndefined();
    await expect(shifts.checkOut('wang')).rejects.toMatchObject({ code: 'no_shift', httpStatus: 404 });
    expect(await audit()).toEqual([
      ['wang', 'shift.checked_in', 'xincheng', null],
      ['wang', 'shift.checked_out', 'xincheng', null],
    ]);
  });

  it('ends the shift at one site when the maintainer checks in at another', async () => {
    const shifts = service();
    await shifts.start();
    const first = await shifts.checkIn(wang, 'xincheng', 'button');
    await shifts.checkIn(li, 'xincheng', 'button');
    now += HOUR;
    const second = await shifts.checkIn(wang, 'north', 'button');
    expect(second.id).not.toBe(first.id);
    expect(shifts.list().map((s) => [s.username, s.site])).toEqual([
      ['li', 'xincheng'],
      ['wang', 'north'],
    ]);
    expect(shifts.list('north').map((s) => s.username)).toEqual(['wang']);
    expect((await store.listOpenShifts()).map((s) => s.site)).toEqual(['xincheng', 'north']);
    expect(await audit()).toEqual([
      ['wang', 'shift.checked_in', 'xincheng', null],
      ['li', 'shift.checked_in', 'xincheng', null],
      ['wang', 'shift.checked_out', 'xincheng', 'checked_in_elsewhere'],
      ['wang', 'shift.checked_in', 'north', null],
    ]);
  });

  it('refuses a site the maintainer does not work at, and one that is not configured', async () => {
    const shifts = service();
    await shifts.start();
    await expect(shifts.checkIn(wang, 'east', 'qr')).rejects.toMatchObject({
      code: 'other_site',
      httpStatus: 403,
    });
    await expect(shifts.checkIn(li, 'moon', 'qr')).rejects.toMatchObject({
      code: 'unknown_site',
      httpStatus: 400,
    });
    expect(shifts.list()).toEqual([]);
  });

  it('counts a shift older than maxHours as ended, and ends it at that time', async () => {
    const shifts = service();
    await shifts.start();
    const old = await shifts.checkIn(wang, 'xincheng', 'button');
    now = T0 + 12 * HOUR - 1;
    expect(shifts.staffed('xincheng')).toBe(true);
    now = T0 + 12 * HOUR;
    expect(shifts.staffed('xincheng')).toBe(false);
    expect(shifts.current('wang')).toBeUndefined();
    expect(shifts.list()).toEqual([]);
    // The next morning's check-in starts afresh; the forgotten shift ended when it stopped counting.
    now = T0 + 24 * HOUR;
    await shifts.checkIn(wang, 'xincheng', 'button');
    const history = await store.listAudit({ limit: 10, offset: 0 });
    expect(history.find((e) => e.action === 'shift.checked_out')?.detail).toMatchObject({
      startedAt: new Date(old.startedAt).toISOString(),
      endedAt: new Date(T0 + 12 * HOUR).toISOString(),
    });
  });

  it('after a restart, knows who is on shift from the store and closes the expired shifts', async () => {
    const before = service();
    await before.start();
    await before.checkIn(wang, 'xincheng', 'button');
    now = T0 + 10 * HOUR;
    await before.checkIn(li, 'north', 'qr');
    await before.stop();

    now = T0 + 13 * HOUR;
    const after = service();
    await after.start();
    expect(after.staffed('north')).toBe(true);
    expect(after.staffed('xincheng')).toBe(false);
    expect((await store.listOpenShifts()).map((s) => s.username)).toEqual(['li']);
    await expect(after.checkOut('wang')).rejects.toMatchObject({ code: 'no_shift' });
    expect((await audit()).at(-1)).toEqual(['system:shifts', 'shift.checked_out', 'xincheng', 'expired']);
  });
});
