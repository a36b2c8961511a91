import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  loadSegment,
  readSegmentLines,
  SEGMENT_NAME,
  type Segment,
  segmentName,
  syncDir,
  writeSealedSegment,
} from './spool-files.ts';

export { spoolDirBytes } from './spool-files.ts';

export interface SpoolOptions {
  dir: string;
  /** Upper bound of the segment files together; when an append would pass it, the oldest go. */
  maxBytes: number;
  /** A segment is sealed at this size; dropping happens a segment at a time. Default maxBytes / 8. */
  segmentMaxBytes?: number;
}

/** Records read from the oldest unread segment, acknowledged with `ack` once they are safely elsewhere. */
export interface SpoolChunk<T> {
  records: T[];
  /** Lines consumed, including unreadable ones that were skipped. */
  lines: number;
  readonly segment: Segment;
  readonly startOffset: number;
  readonly endOffset: number;
}

/** Sequence numbers start mid-range so `prepend` has room below the oldest segment. */
const FIRST_SEQ = 500_000_000_000;
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;
/** Records encoded and written at a time by one append (about 1.5 MB of telemetry points). */
const APPEND_SLICE = 20_000;

/**
 * A bounded FIFO of JSON records on disk: append-only NDJSON segment files `seg-<seq>.ndjson`,
 * read oldest first. Durability: every append is written and `fdatasync`ed before its promise
 * resolves, and the directory is fsynced when a segment is created, so what was appended survives
 * a crash or power loss; a torn last line is cut off at the next open.
 * Delivery is at-least-once: the read position is kept in memory only, so after a crash the
 * oldest segment is read again from its start (InfluxDB overwrites a point with the same series
 * and timestamp, so a resend is harmless).
 * Changes to the files (appends, prepends, drops, removals) run one at a time in a queue, and the
 * appends waiting in it are coalesced into one operation (written APPEND_SLICE records and one
 * fdatasync at a time), so the queue never holds more than one of them. Reading does not queue:
 * it reads only bytes that a finished append synced, which no later change alters (a segment
 * dropped meanwhile is skipped or still readable through its open handle, and its chunk's `ack`
 * is ignored). So a drain is never starved by appends, however fast they come (scenario D in
 * BENCHMARKS.md: reads queued behind every append left millions of points waiting).
 */
export class Spool<T> {
  readonly #opts: Required<SpoolOptions>;
  readonly #isRecord: (value: unknown) => value is T;
  readonly #segments: Segment[] = [];
  #active: { segment: Segment; handle: FileHandle } | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Records given to `append` and not yet taken by a write, oldest first. */
  #waiting: (readonly T[])[] = [];
  /** The queued operation that will write `#waiting`, while it has not started. */
  #appendOp: Promise<void> | undefined;
  #queuedPoints = 0;
  #droppedPoints = 0;
  #unreadableLines = 0;
  #nextSeq = FIRST_SEQ;
  #closed = false;

  constructor(opts: SpoolOptions, isRecord: (value: unknown) => value is T) {
    const segmentMaxBytes =
      opts.segmentMaxBytes ?? Math.max(1, Math.min(MAX_SEGMENT_BYTES, Math.floor(opts.maxBytes / 8)));
    this.#opts = { ...opts, segmentMaxBytes };
    this.#isRecord = isRecord;
  }

  /** Points on disk not yet acknowledged. */
  get points(): number {
    return this.#segments.reduce((n, s) => n + s.points - s.readPoints, 0);
  }

  /** Points given to `append`/`prepend` that are not on disk yet: they are in memory. */
  get queuedPoints(): number {
    return this.#queuedPoints;
  }

  get bytes(): number {
    return this.#segments.reduce((n, s) => n + s.bytes, 0);
  }

  get isEmpty(): boolean {
    return this.#queuedPoints === 0 && this.points === 0;
  }

  /** Points discarded to stay within `maxBytes` (the oldest first) or because an append failed. */
  get droppedPoints(): number {
    return this.#droppedPoints;
  }

  /** Lines that could not be parsed back (e.g. edited by hand); skipped, never sent. */
  get unreadableLines(): number {
    return this.#unreadableLines;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Loads the segments left by an earlier run; they are read before anything appended now. */
  open(): Promise<void> {
    return this.#run(async () => {
      await mkdir(this.#opts.dir, { recursive: true });
      const names = (await readdir(this.#opts.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
      for (const name of names) {
        const segment = await loadSegment(this.#opts.dir, name);
        if (segment) this.#segments.push(segment);
      }
      const last = this.#segments.at(-1);
      this.#nextSeq = last ? last.seq + 1 : FIRST_SEQ;
      while (this.bytes > this.#opts.maxBytes && this.#segments.length > 0) await this.#dropOldest();
    });
  }

  /**
   * Resolves once the records are on disk (or were dropped because the disk refused them).
   * Appends made while another is being written are written together, in their order, next.
   */
  append(records: readonly T[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('spool is closed'));
    if (records.length === 0) return Promise.resolve();
    this.#waiting.push(records);
    this.#queuedPoints += records.length;
    this.#appendOp ??= this.#run(() => this.#appendWaiting());
    return this.#appendOp;
  }

  /**
   * Drops up to `max` of the oldest records still waiting to be appended (not the write under
   * way), counting them as dropped: for a caller bounding the memory they hold. Returns how many.
   */
  dropQueued(max: number): number {
    let dropped = 0;
    while (dropped < max && this.#waiting.length > 0) {
      const first = this.#waiting[0] as readonly T[];
      const n = Math.min(first.length, max - dropped);
      if (n === first.length) this.#waiting.shift();
      else this.#waiting[0] = first.slice(n);
      dropped += n;
    }
    this.#queuedPoints -= dropped;
    this.#droppedPoints += dropped;
    return dropped;
  }

  /**
   * Puts records in front of everything spooled: for a batch older than what was spooled while
   * it was being sent. Being the oldest, they are also the first dropped when space is short.
   */
  prepend(records: readonly T[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('spool is closed'));
    if (records.length === 0) return Promise.resolve();
    this.#queuedPoints += records.length;
    return this.#run(async () => {
      try {
        await this.#prependNow(records);
      } finally {
        this.#queuedPoints -= records.length;
      }
    });
  }

  /**
   * Up to `max` records from the oldest unread segment, without removing them. Waits for queued
   * appends only when nothing on disk is left to read.
   */
  async next(max: number): Promise<SpoolChunk<T> | undefined> {
    for (;;) {
      const segment = this.#segments.find((s) => s.readOffset < s.bytes);
      if (!segment) {
        if (this.#queuedPoints === 0) return undefined;
        await this.#queue;
        continue;
      }
      const startOffset = segment.readOffset;
      let read: Awaited<ReturnType<typeof readSegmentLines>>;
      try {
        read = await readSegmentLines(segment.file, startOffset, segment.bytes, max);
      } catch (err) {
        // Dropped for space (or removed once read) between choosing it and opening it.
        if (!this.#segments.includes(segment)) continue;
        throw err;
      }
      if (read.lines.length === 0) {
        // Shorter on disk than what was synced (cut by hand?): the rest cannot be read; skip it
        // rather than return empty chunks forever.
        this.#droppedPoints += segment.points - segment.readPoints;
        segment.readOffset = segment.bytes;
        segment.readPoints = segment.points;
        this.#run(() => this.#remove(segment)).catch(() => undefined);
        continue;
      }
      const records: T[] = [];
      for (const line of read.lines) {
        const record = this.#parse(line);
        if (record !== undefined) records.push(record);
      }
      return { records, lines: read.lines.length, segment, startOffset, endOffset: read.endOffset };
    }
  }

  /** Marks a chunk as delivered; a segment is deleted once all of it is. */
  ack(chunk: SpoolChunk<T>): Promise<void> {
    const segment = chunk.segment;
    // The segment may have been dropped for space while its chunk was being sent.
    if (!this.#segments.includes(segment) || segment.readOffset !== chunk.startOffset)
      return Promise.resolve();
    segment.readOffset = chunk.endOffset;
    segment.readPoints += chunk.lines;
    if (segment.readOffset < segment.bytes) return Promise.resolve();
    return this.#run(async () => {
      // Still all read: an append may have added to it (the open segment) since.
      if (this.#segments.includes(segment) && segment.readOffset >= segment.bytes)
        await this.#remove(segment);
    });
  }

  /** Waits for queued appends and closes the open segment; its data stays for the next open. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#run(() => this.#seal());
  }

  #run<R>(op: () => Promise<R>): Promise<R> {
    const result = this.#queue.then(op);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Everything appended since the last write began: one write, one fdatasync. */
  async #appendWaiting(): Promise<void> {
    // Appends from now on wait for the next operation.
    this.#appendOp = undefined;
    const batches = this.#waiting;
    this.#waiting = [];
    const records = batches.length === 1 ? (batches[0] as readonly T[]) : batches.flat();
    let next = 0;
    try {
      // A slice at a time, so that encoding a large backlog never holds the event loop for long.
      while (next < records.length) {
        const slice =
          next === 0 && records.length <= APPEND_SLICE ? records : records.slice(next, next + APPEND_SLICE);
        next += slice.length;
        try {
          await this.#appendNow(slice);
        } finally {
          this.#queuedPoints -= slice.length;
        }
      }
    } finally {
      // After a slice failed (counted by #appendNow), the rest is not tried: dropped as well.
      this.#queuedPoints -= records.length - next;
      this.#droppedPoints += records.length - next;
    }
  }

  async #appendNow(records: readonly T[]): Promise<void> {
    const lines = records.map((r) => Buffer.from(`${JSON.stringify(r)}\n`));
    let start = 0;
    let total = lines.reduce((n, l) => n + l.length, 0);
    // A single append larger than the whole spool keeps only its newest lines.
    while (total > this.#opts.maxBytes && start < lines.length) total -= (lines[start++] as Buffer).length;
    this.#droppedPoints += start;
    while (this.bytes + total > this.#opts.maxBytes && this.#segments.length > 0) await this.#dropOldest();
    let i = start;
    try {
      while (i < lines.length) i = await this.#writeSome(lines, i);
    } catch (err) {
      this.#droppedPoints += lines.length - i;
      throw err;
    }
  }

  async #prependNow(records: readonly T[]): Promise<void> {
    const lines = records.map((r) => Buffer.from(`${JSON.stringify(r)}\n`));
    // Only the free room is used: these are the oldest points, so they are the ones to drop.
    let room = this.#opts.maxBytes - this.bytes;
    let start = lines.length;
    while (start > 0 && room >= (lines[start - 1] as Buffer).length)
      room -= (lines[--start] as Buffer).length;
    this.#droppedPoints += start;
    const groups: Buffer[][] = [];
    let group: Buffer[] = [];
    let size = 0;
    for (const line of lines.slice(start)) {
      if (group.length > 0 && size + line.length > this.#opts.segmentMaxBytes) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(line);
      size += line.length;
    }
    if (group.length > 0) groups.push(group);
    let seq = (this.#segments[0]?.seq ?? this.#nextSeq) - groups.length;
    const created: Segment[] = [];
    try {
      for (const g of groups) created.push(await writeSealedSegment(this.#opts.dir, seq++, g));
    } catch (err) {
      this.#droppedPoints += groups.slice(created.length).reduce((n, g) => n + g.length, 0);
      throw err;
    } finally {
      this.#segments.unshift(...created);
      await syncDir(this.#opts.dir);
    }
  }

  /** Writes lines from `from` into the open segment while they fit; returns the next index. */
  async #writeSome(lines: Buffer[], from: number): Promise<number> {
    const active = this.#active ?? (await this.#createSegment());
    const { segment, handle } = active;
    let size = 0;
    let to = from;
    while (to < lines.length) {
      const len = (lines[to] as Buffer).length;
      // An empty segment takes at least one line, however long, so progress is always made.
      if (segment.bytes + size + len > this.#opts.segmentMaxBytes && (segment.bytes > 0 || to > from)) break;
      size += len;
      to++;
    }
    if (to === from) {
      await this.#seal();
      return from;
    }
    try {
      await handle.write(Buffer.concat(lines.slice(from, to), size));
      await handle.datasync();
    } catch (err) {
      await handle.truncate(segment.bytes).catch(() => undefined);
      await this.#seal();
      throw err;
    }
    // Only now may readers see these bytes: they are complete and synced.
    segment.bytes += size;
    segment.points += to - from;
    if (segment.bytes >= this.#opts.segmentMaxBytes) await this.#seal();
    return to;
  }

  async #createSegment(): Promise<{ segment: Segment; handle: FileHandle }> {
    const seq = this.#nextSeq++;
    const file = path.join(this.#opts.dir, segmentName(seq));
    const handle = await open(file, 'a');
    await syncDir(this.#opts.dir);
    const segment: Segment = { seq, file, bytes: 0, points: 0, readOffset: 0, readPoints: 0 };
    this.#segments.push(segment);
    this.#active = { segment, handle };
    return this.#active;
  }

  async #seal(): Promise<void> {
    const active = this.#active;
    this.#active = undefined;
    if (!active) return;
    await active.handle.close();
    const { segment } = active;
    // Empty, or read to the end already: nothing in it is needed again.
    if (segment.bytes === 0 || segment.readOffset >= segment.bytes) await this.#remove(segment);
  }

  async #dropOldest(): Promise<void> {
    const oldest = this.#segments[0];
    if (!oldest) return;
    this.#droppedPoints += oldest.points - oldest.readPoints;
    await this.#remove(oldest);
  }

  async #remove(segment: Segment): Promise<void> {
    if (this.#active?.segment === segment) {
      const { handle } = this.#active;
      this.#active = undefined;
      await handle.close();
    }
    const index = this.#segments.indexOf(segment);
    if (index >= 0) this.#segments.splice(index, 1);
    await rm(segment.file, { force: true });
  }

  #parse(line: Buffer): T | undefined {
    try {
      const value: unknown = JSON.parse(line.toString('utf8'));
      if (this.#isRecord(value)) return value;
    } catch {
      // counted below
    }
    this.#unreadableLines++;
    return undefined;
  }
}
