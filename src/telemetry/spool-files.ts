import { type FileHandle, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';

/** File-level pieces of the spool (src/telemetry/spool.ts): naming, loading, reading, fsync. */

export interface Segment {
  seq: number;
  file: string;
  /** Complete lines on disk (a torn tail is cut off when the spool is opened). */
  bytes: number;
  points: number;
  /** How far the drain has acknowledged, in bytes and lines. */
  readOffset: number;
  readPoints: number;
}

export const SEGMENT_NAME = /^seg-(\d{12})\.ndjson$/;
const READ_BLOCK_BYTES = 1024 * 1024;

export function segmentName(seq: number): string {
  return `seg-${String(seq).padStart(12, '0')}.ndjson`;
}

/** A segment left by an earlier run, its torn last line cut off; undefined if nothing is left. */
export async function loadSegment(dir: string, name: string): Promise<Segment | undefined> {
  const file = path.join(dir, name);
  const data = await readFile(file);
  const complete = data.lastIndexOf(0x0a) + 1;
  // A crash during an append can leave half a line; drop it so the next line starts clean.
  if (complete < data.length) await truncate(file, complete);
  if (complete === 0) {
    await rm(file, { force: true });
    return undefined;
  }
  let points = 0;
  for (let i = 0; i < complete; i++) if (data[i] === 0x0a) points++;
  const seq = Number(SEGMENT_NAME.exec(name)?.[1]);
  return { seq, file, bytes: complete, points, readOffset: 0, readPoints: 0 };
}

/** Writes a whole segment in one go (used by prepend), synced before it counts. */
export async function writeSealedSegment(dir: string, seq: number, lines: Buffer[]): Promise<Segment> {
  const file = path.join(dir, segmentName(seq));
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

/**
 * Up to `max` complete lines of a segment file between `from` and `to`: the lines and the offset just
 * past the last one. The caller passes `to` = `segment.bytes` as it was when the read began: those
 * bytes were written and synced by an append that has finished, so this is safe while another
 * append runs.
 */
export async function readSegmentLines(
  file: string,
  from: number,
  to: number,
  max: number,
): Promise<{ lines: Buffer[]; endOffset: number }> {
  const handle = await open(file, 'r');
  let buffer: Buffer;
  try {
    const remaining = to - from;
    let length = Math.min(remaining, READ_BLOCK_BYTES);
    // Grow the read until it holds `max` lines or the rest of the segment (lines end in \n).
    for (;;) {
      buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, from);
      buffer = buffer.subarray(0, bytesRead);
      if (length >= remaining || countLines(buffer, max) >= max) break;
      length = Math.min(remaining, length * 2);
    }
  } finally {
    await handle.close();
  }
  const lines: Buffer[] = [];
  let offset = 0;
  while (lines.length < max && offset < buffer.length) {
    const end = buffer.indexOf(0x0a, offset);
    if (end < 0) break;
    lines.push(buffer.subarray(offset, end));
    offset = end + 1;
  }
  return { lines, endOffset: from + offset };
}

function countLines(buffer: Buffer, max: number): number {
  let n = 0;
  for (let i = buffer.indexOf(0x0a); i >= 0 && n < max; i = buffer.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Makes a new file's directory entry durable (POSIX needs an fsync of the directory for that). */
export async function syncDir(dir: string): Promise<void> {
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
