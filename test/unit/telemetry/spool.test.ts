import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, spoolDirBytes } from '../../../src/telemetry/spool.ts';

interface Rec {
  n: number;
  pad?: string;
}
const isRec = (v: unknown): v is Rec => typeof (v as Rec | null)?.n === 'number';
const recs = (from: number, count: number, pad = ''): Rec[] =>
  Array.from({ length: count }, (_, i) => (pad ? { n: from + i, pad } : { n: from + i }));
/** Bytes of one `{"n":<n>}` line for n of two digits. */
const LINE = `${JSON.stringify({ n: 10 })}\n`.length;

/** Reads and acknowledges everything, in chunks of `max`, returning the record numbers. */
async function drainAll(spool: Spool<Rec>, max = 7): Promise<number[]> {
  const seen: number[] = [];
  for (let chunk = await spool.next(max); chunk; chunk = await spool.next(max)) {
    seen.push(...chunk.records.map((r) => r.n));
    await spool.ack(chunk);
  }
  return seen;
}

describe('Spool', () => {
  let dir: string;
  let opened: Spool<Rec>[] = [];
  /** A spool on the test's directory, closed after the test (close is idempotent). */
  const openSpool = async (opts: { maxBytes: number; segmentMaxBytes?: number }) => {
    const spool = new Spool<Rec>({ dir, ...opts }, isRec);
    opened.push(spool);
    await spool.open();
    return spool;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-spool-'));
  });
  afterEach(async () => {
    for (const spool of opened) await spool.close();
    opened = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates segments at segmentMaxBytes and reads back in append order across them', async () => {
    const spool = await openSpool({ maxBytes: 1_000_000, segmentMaxBytes: LINE * 10 });
    await spool.append(recs(10, 25));
    await spool.append(recs(35, 30));
    expect(spool.points).toBe(55);
    expect(spool.segmentCount).toBe(6);
    expect(readdirSync(dir).sort()[0]).toBe('seg-500000000000.ndjson');
    expect(spool.bytes).toBe(await spoolDirBytes(dir));
    const seen = await drainAll(spool);
    expect(seen).toEqual(recs(10, 55).map((r) => r.n));
    expect(spool.isEmpty).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    await spool.close();
  });

  it('stays within maxBytes by deleting the oldest segment and counting its points', async () => {
    const spool = await openSpool({ maxBytes: LINE * 30, segmentMaxBytes: LINE * 10 });
    for (let n = 10; n < 90; n += 10) await spool.append(recs(n, 10));
    expect(spool.bytes).toBeLessThanOrEqual(LINE * 30);
    expect(await spoolDirBytes(dir)).toBeLessThanOrEqual(LINE * 30);
    expect(spool.droppedPoints).toBe(50);
    expect(spool.points).toBe(30);
    // What is left is the newest, still in order.
    expect(await drainAll(spool)).toEqual(recs(60, 30).map((r) => r.n));
    await spool.close();
  });

  it('keeps only the newest records of an append larger than the whole spool', async () => {
    const spool = await openSpool({ maxBytes: LINE * 5, segmentMaxBytes: LINE * 2 });
    await spool.append(recs(10, 12));
    expect(spool.droppedPoints).toBe(7);
    expect(await drainAll(spool, 100)).toEqual([17, 18, 19, 20, 21]);
  });

  it('appends while a chunk is being read, and a partly acknowledged segment keeps its place', async () => {
    const spool = await openSpool({ maxBytes: 1_000_000 });
    await spool.append(recs(10, 5));
    const first = await spool.next(3);
    expect(first?.records.map((r) => r.n)).toEqual([10, 11, 12]);
    await spool.append(recs(15, 5));
    if (!first) throw new Error('no chunk');
    await spool.ack(first);
    expect(spool.points).toBe(7);
    expect(await drainAll(spool, 4)).toEqual([13, 14, 15, 16, 17, 18, 19]);
  });

  it('prepend puts records before everything spooled, across segments', async () => {
    const spool = await openSpool({ maxBytes: 1_000_000, segmentMaxBytes: LINE * 4 });
    await spool.append(recs(20, 5));
    await spool.prepend(recs(10, 10));
    await spool.append(recs(25, 2));
    expect(spool.points).toBe(17);
    expect(await drainAll(spool, 3)).toEqual(recs(10, 17).map((r) => r.n));
  });

  it('a prepend into a full spool drops its own oldest records, not the newer ones', async () => {
    const spool = await openSpool({ maxBytes: LINE * 10, segmentMaxBytes: LINE * 5 });
    await spool.append(recs(20, 8));
    await spool.prepend(recs(10, 5));
    expect(spool.droppedPoints).toBe(3);
    expect(spool.bytes).toBeLessThanOrEqual(LINE * 10);
    expect(await drainAll(spool)).toEqual([13, 14, ...recs(20, 8).map((r) => r.n)]);
  });

  it('prepended segments keep their place after a restart', async () => {
    const first = await openSpool({ maxBytes: 1_000_000, segmentMaxBytes: LINE * 4 });
    await first.append(recs(20, 5));
    await first.prepend(recs(10, 10));
    await first.close();
    const second = await openSpool({ maxBytes: 1_000_000, segmentMaxBytes: LINE * 4 });
    await second.append(recs(25, 1));
    expect(await drainAll(second)).toEqual(recs(10, 16).map((r) => r.n));
  });

  it('a chunk that was not acknowledged is read again', async () => {
    const spool = await openSpool({ maxBytes: 1_000_000 });
    await spool.append(recs(10, 3));
    const a = await spool.next(10);
    const b = await spool.next(10);
    expect(b?.records).toEqual(a?.records);
  });

  it('resumes after a restart: older segments first, then new appends, none lost', async () => {
    const first = await openSpool({ maxBytes: 1_000_000, segmentMaxBytes: LINE * 4 });
    await first.append(recs(10, 10));
    const chunk = await first.next(3);
    if (!chunk) throw new Error('no chunk');
    await first.ack(chunk);
    await first.close();

    const second = await openSpool({ maxBytes: 1_000_000, segmentMaxBytes: LINE * 4 });
    // The read position is not persisted: the partly read segment is read again from its start.
    expect(second.points).toBe(10);
    await second.append(recs(20, 3));
    expect(await drainAll(second)).toEqual([...recs(10, 10), ...recs(20, 3)].map((r) => r.n));
  });

  it('cuts a torn last line (a crash mid-append) and skips unreadable lines', async () => {
    const first = await openSpool({ maxBytes: 1_000_000 });
    await first.append(recs(10, 2));
    await first.close();
    const file = path.join(dir, readdirSync(dir)[0] as string);
    appendFileSync(file, 'not json\n{"n":12}\n{"n":1');
    writeFileSync(path.join(dir, 'notes.txt'), 'ignored');

    const second = await openSpool({ maxBytes: 1_000_000 });
    expect(readFileSync(file, 'utf8').endsWith('{"n":12}\n')).toBe(true);
    expect(second.points).toBe(4);
    expect(await drainAll(second)).toEqual([10, 11, 12]);
    expect(second.unreadableLines).toBe(1);
  });

  it('applies a smaller maxBytes to segments left by an earlier run', async () => {
    const big = await openSpool({ maxBytes: 1_000_000, segmentMaxBytes: LINE * 10 });
    await big.append(recs(10, 40));
    await big.close();
    const small = await openSpool({ maxBytes: LINE * 20, segmentMaxBytes: LINE * 10 });
    expect(small.droppedPoints).toBe(20);
    expect(await drainAll(small)).toEqual(recs(30, 20).map((r) => r.n));
  });

  it('reads a chunk that spans more than one read block', async () => {
    const spool = await openSpool({ maxBytes: 64 * 1024 * 1024 });
    const pad = 'x'.repeat(2000);
    await spool.append(recs(0, 1500, pad));
    const chunk = await spool.next(1000);
    expect(chunk?.records).toHaveLength(1000);
    expect(chunk?.records.at(-1)?.n).toBe(999);
  });

  it('writes appends made while one is under way together, in order, each promise resolved', async () => {
    const spool = await openSpool({ maxBytes: 1_000_000 });
    const appends = Array.from({ length: 50 }, (_, i) => spool.append(recs(i * 10, 10)));
    // Not on disk yet, but accounted for: in memory, waiting for the disk.
    expect(spool.queuedPoints).toBe(500);
    expect(spool.points).toBe(0);
    expect(spool.isEmpty).toBe(false);
    await Promise.all(appends);
    expect(spool.queuedPoints).toBe(0);
    expect(spool.points).toBe(500);
    expect(await drainAll(spool, 64)).toEqual(recs(0, 500).map((r) => r.n));
  });

  it('writes a large append in slices, in order, and accounts for it until the last is on disk', async () => {
    const spool = await openSpool({ maxBytes: 64 * 1024 * 1024 });
    const done = spool.append(recs(0, 45_000));
    expect(spool.queuedPoints).toBe(45_000);
    await done;
    expect(spool).toMatchObject({ queuedPoints: 0, points: 45_000, droppedPoints: 0 });
    expect(await drainAll(spool, 10_000)).toEqual(recs(0, 45_000).map((r) => r.n));
  });

  it('a read does not wait for appends queued behind it: it returns what is on disk', async () => {
    const spool = await openSpool({ maxBytes: 1_000_000 });
    await spool.append(recs(10, 5));
    const later = [spool.append(recs(15, 5)), spool.append(recs(20, 5))];
    const chunk = await spool.next(100);
    // A read queued behind the appends would have found all 15 records in the segment.
    expect(chunk?.records.map((r) => r.n)).toEqual([10, 11, 12, 13, 14]);
    await Promise.all(later);
    if (!chunk) throw new Error('no chunk');
    await spool.ack(chunk);
    expect(await drainAll(spool, 100)).toEqual(recs(15, 10).map((r) => r.n));
  });

  it('dropQueued drops the oldest records still waiting for the disk and counts them', async () => {
    const spool = await openSpool({ maxBytes: 1_000_000 });
    const first = spool.append(recs(10, 5));
    const second = spool.append(recs(15, 5));
    expect(spool.dropQueued(7)).toBe(7);
    expect(spool.queuedPoints).toBe(3);
    expect(spool.droppedPoints).toBe(7);
    await Promise.all([first, second]);
    expect(spool.dropQueued(5)).toBe(0);
    expect(await drainAll(spool)).toEqual([17, 18, 19]);
  });

  it('refuses appends after close', async () => {
    const spool = await openSpool({ maxBytes: 1_000_000 });
    await spool.close();
    await expect(spool.append(recs(0, 1))).rejects.toThrow(/closed/);
  });
});
