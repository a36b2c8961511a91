import { type FileHandle, mkdir, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';

export interface SpoolOptions {
  dir: string;
  /** Upper bound of the segment files together; when an append would pass it, the oldest go. */
  maxBytes: number;
  /** A segment is sealed at this size; dropping happens a segment at a time. Default maxBytes / 8. */
  segmentMaxBytes?: number;
}

interface Segment {
  seq: number;
  file: string;
  /** Complete lines on disk (a torn tail is cut off when the spool is opened). */
  bytes: number;
  points: number;
  /** How far the drain has acknowledged, in bytes and lines. */
  readOffset: number;
  readPoints: number;
}

/** Records read from the oldest segment, acknowledged with `ack` once they are safely elsewhere. */
export interface SpoolChunk<T> {
  records: T[];
  /** Lines consumed, including unreadable ones that were skipped. */
  lines: number;
  readonly segment: Segment;
  readonly endOffset: number;
}

const SEGMENT_NAME = /^seg-(\d{12})\.ndjson$/;
/** Sequence numbers start mid-range so `prepend` has room below the oldest segment. */
const FIRST_SEQ = 500_000_000_000;
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;
const READ_BLOCK_BYTES = 1024 * 1024;

/**
 * A bounded FIFO of JSON records on disk: append-only NDJSON segment files `seg-<seq>.ndjson`,
 * read oldest first. Durability: every append is written and `fdatasync`ed before its promise
 * resolves, and the directory is fsynced when a segment is created, so what was appended survives
 * a crash or power loss; a torn last line is cut off at the next open.
 * Delivery is at-least-once: the read position is kept in memory only, so after a crash the
 * oldest segment is read again from its start (InfluxDB overwrites a point with the same series
 * and timestamp, so a resend is harmless).
 * Every operation runs in one queue, so appends, reads and drops never interleave.
 */
export class Spool<T> {
  readonly #opts: Required<SpoolOptions>;
  readonly #isRecord: (value: unknown) => value is T;
  readonly #segments: Segment[] = [];
  #active: { segment: Segment; handle: FileHandle } | undefined;
  #queue: Promise<unknown> = Promise.resolve();
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

  /** Points not yet acknowledged, including appends still queued. */
  get points(): number {
    return this.#segments.reduce((n, s) => n + s.points - s.readPoints, this.#queuedPoints);
  }

  get bytes(): number {
    return this.#segments.reduce((n, s) => n + s.bytes, 0);
  }

  get isEmpty(): boolean {
    return this.points === 0;
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
      for (const name of names) await this.#load(name);
      const last = this.#segments.at(-1);
      this.#nextSeq = last ? last.seq + 1 : FIRST_SEQ;
      while (this.bytes > this.#opts.maxBytes && this.#segments.length > 0) await this.#dropOldest();
    });
  }

  /** Resolves once the records are on disk (or were dropped because the disk refused them). */
  append(records: readonly T[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('spool is closed'));
    if (records.length === 0) return Promise.resolve();
    this.#queuedPoints += records.length;
    return this.#run(async () => {
      try {
        await this.#appendNow(records);
      } finally {
        this.#queuedPoints -= records.length;
      }
    });
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

  /** Up to `max` records from the oldest segment, without removing them. */
  next(max: number): Promise<SpoolChunk<T> | undefined> {
    return this.#run(() => this.#readNext(max));
  }

  /** Marks a chunk as delivered; a segment is deleted once all of it is. */
  ack(chunk: SpoolChunk<T>): Promise<void> {
    return this.#run(async () => {
      const segment = chunk.segment;
      // The segment may have been dropped for space while its chunk was being sent.
      if (this.#segments[0] !== segment) return;
      segment.readOffset = chunk.endOffset;
      segment.readPoints += chunk.lines;
      if (segment.readOffset >= segment.bytes) await this.#remove(segment);
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

  async #load(name: string): Promise<void> {
    const file = path.join(this.#opts.dir, name);
    const data = await readFile(file);
    const complete = data.lastIndexOf(0x0a) + 1;
    // A crash during an append can leave half a line; drop it so the next line starts clean.
    if (complete < data.length) await truncate(file, complete);
    if (complete === 0) {
      await rm(file, { force: true });
      return;
    }
    let points = 0;
    for (let i = 0; i < complete; i++) if (data[i] === 0x0a) points++;
    const seq = Number(SEGMENT_NAME.exec(name)?.[1]);
    this.#segments.push({ seq, file, bytes: complete, points, readOffset: 0, readPoints: 0 });
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
    while (i < lines.length) i = await this.#writeSome(lines, i);
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
      for (const g of groups) created.push(await this.#writeSealedSegment(seq++, g));
    } catch (err) {
      this.#droppedPoints += groups.slice(created.length).reduce((n, g) => n + g.length, 0);
      throw err;
    } finally {
      this.#segments.unshift(...created);
      await syncDir(this.#opts.dir);
    }
  }

  async #writeSealedSegment(seq: number, lines: Buffer[]): Promise<Segment> {
    const file = path.join(this.#opts.dir, segmentName(seq));
    const data = Buffer.concat(lines);
    const handle = await open(file, 'wx');
    try {
      await handle.write(data);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    return { seq, file, bytes: data.length, points: lines.length, readOffset: 0, readPoints: 0 };
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
      this.#droppedPoints += lines.length - from;
      await handle.truncate(segment.bytes).catch(() => undefined);
      await this.#seal();
      throw err;
    }
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
    if (active.segment.bytes === 0) await this.#remove(active.segment);
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

  async #readNext(max: number): Promise<SpoolChunk<T> | undefined> {
    const segment = this.#segments[0];
    if (!segment) return undefined;
    if (segment.readOffset >= segment.bytes) {
      await this.#remove(segment);
      return this.#readNext(max);
    }
    const handle = await open(segment.file, 'r');
    try {
      return await this.#readLines(handle, segment, max);
    } finally {
      await handle.close();
    }
  }

  async #readLines(handle: FileHandle, segment: Segment, max: number): Promise<SpoolChunk<T>> {
    const remaining = segment.bytes - segment.readOffset;
    let length = Math.min(remaining, READ_BLOCK_BYTES);
    let buffer = Buffer.alloc(0);
    // Grow the read until it holds `max` lines or the rest of the segment (lines end in \n).
    for (;;) {
      buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, segment.readOffset);
      buffer = buffer.subarray(0, bytesRead);
      if (length >= remaining || countLines(buffer, max) >= max) break;
      length = Math.min(remaining, length * 2);
    }
    const records: T[] = [];
    let lines = 0;
    let offset = 0;
    while (lines < max && offset < buffer.length) {
      const end = buffer.indexOf(0x0a, offset);
      if (end < 0) break;
      const record = this.#parse(buffer.subarray(offset, end));
      if (record !== undefined) records.push(record);
      lines++;
      offset = end + 1;
    }
    return { records, lines, segment, endOffset: segment.readOffset + offset };
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

function segmentName(seq: number): string {
  return `seg-${String(seq).padStart(12, '0')}.ndjson`;
}

function countLines(buffer: Buffer, max: number): number {
  let n = 0;
  for (let i = buffer.indexOf(0x0a); i >= 0 && n < max; i = buffer.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Makes a new file's directory entry durable (POSIX needs an fsync of the directory for that). */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not every platform lets a directory be fsynced; the data itself is still synced.
  } finally {
    await handle?.close();
  }
}

/** Bytes used by a spool directory, for tests and diagnostics. */
export async function spoolDirBytes(dir: string): Promise<number> {
  const names = (await readdir(dir)).filter((n) => SEGMENT_NAME.test(n));
  let total = 0;
  for (const name of names) total += (await stat(path.join(dir, name))).size;
  return total;
}
