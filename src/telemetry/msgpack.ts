/**
 * A MessagePack decoder for InfluxDB 1.x query answers (`Accept: application/x-msgpack`), which
 * the history reader streams: InfluxDB encodes the answer about twice as cheaply as JSON, and for a
 * replay of millions of readings its encoding is most of the query's cost. No dependency: the
 * format is small (msgpack spec, "formats"), and only decoding is needed.
 *
 * Maps become plain objects (InfluxDB's keys are strings), integers beyond 2^53 lose precision
 * (InfluxDB times in ms are far below), extensions come back as `MsgpackExt` (InfluxDB sends time
 * as extension 5 only when no `epoch` is asked for).
 */

export interface MsgpackExt {
  type: number;
  data: Uint8Array;
}

export class MsgpackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MsgpackError';
  }
}

const TWO_32 = 4_294_967_296;

/** How far `msgpackEnd` got through a value that has not fully arrived, so as to resume there. */
export interface ScanProgress {
  /** Where the next header starts (or, with nothing left to pass, where the value ends). */
  p: number;
  /** Values still to pass. */
  remaining: number;
}

/**
 * Where the MessagePack value starting at `pos` ends, or -1 when `buf` holds only part of it (the
 * rest is still on the wire). Walks headers only, without building values, so that a stream can
 * tell cheaply whether a whole value has arrived. With `progress`, a scan that ran out of bytes
 * saves where it stopped, and the next call (with more bytes after the same start) goes on from
 * there instead of walking the value again from its start.
 */
export function msgpackEnd(buf: Uint8Array, pos: number, progress?: ScanProgress): number {
  const len = buf.length;
  let p = progress && progress.remaining > 0 ? progress.p : pos;
  // Containers add their items to the values still to pass, so no recursion is needed.
  let remaining = progress && progress.remaining > 0 ? progress.remaining : 1;
  const stop = (at: number, left: number) => {
    if (progress) {
      progress.p = at;
      progress.remaining = left;
    }
    return -1;
  };
  // Where the last header began, and what was left to pass before it.
  let last = p;
  let lastRemaining = remaining;
  while (remaining > 0) {
    if (p >= len) return stop(p, remaining);
    last = p;
    lastRemaining = remaining;
    const b = buf[p] as number;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
      p++;
      remaining--;
    } else if (b >= 0x80 && b <= 0x8f) {
      p++;
      remaining += 2 * (b & 0x0f) - 1;
    } else if (b >= 0x90 && b <= 0x9f) {
      p++;
      remaining += (b & 0x0f) - 1;
    } else if (b >= 0xa0 && b <= 0xbf) {
      p += 1 + (b & 0x1f);
      remaining--;
    } else {
      const size = headerSize(b);
      if (p + 1 + size.header > len) return stop(p, remaining);
      const n = size.header === 0 ? 0 : readUint(buf, p + 1, size.header);
      p += 1 + size.header;
      remaining--;
      if (size.kind === 'bytes') p += n + size.extra;
      else if (size.kind === 'fixed') p += size.extra;
      else if (size.kind === 'array') remaining += n;
      else remaining += 2 * n;
    }
  }
  // The last item's bytes are not all here yet: resume at its header.
  if (p > len) return stop(last, lastRemaining);
  if (progress) progress.remaining = 0;
  return p;
}

interface HeaderSize {
  /** Bytes of the length that follow the type byte (0 for fixed-size types). */
  header: number;
  kind: 'bytes' | 'fixed' | 'array' | 'map';
  /** Bytes after the header besides the length: an extension's type, or a fixed-size payload. */
  extra: number;
}

/** Type bytes from 0xc4 to 0xdf: the formats whose size a header gives (msgpack spec, "formats"). */
const SIZES = new Map<number, HeaderSize>([
  [0xc4, { header: 1, kind: 'bytes', extra: 0 }],
  [0xc5, { header: 2, kind: 'bytes', extra: 0 }],
  [0xc6, { header: 4, kind: 'bytes', extra: 0 }],
  [0xc7, { header: 1, kind: 'bytes', extra: 1 }],
  [0xc8, { header: 2, kind: 'bytes', extra: 1 }],
  [0xc9, { header: 4, kind: 'bytes', extra: 1 }],
  [0xca, { header: 0, kind: 'fixed', extra: 4 }],
  [0xcb, { header: 0, kind: 'fixed', extra: 8 }],
  [0xcc, { header: 0, kind: 'fixed', extra: 1 }],
  [0xcd, { header: 0, kind: 'fixed', extra: 2 }],
  [0xce, { header: 0, kind: 'fixed', extra: 4 }],
  [0xcf, { header: 0, kind: 'fixed', extra: 8 }],
  [0xd0, { header: 0, kind: 'fixed', extra: 1 }],
  [0xd1, { header: 0, kind: 'fixed', extra: 2 }],
  [0xd2, { header: 0, kind: 'fixed', extra: 4 }],
  [0xd3, { header: 0, kind: 'fixed', extra: 8 }],
  [0xd4, { header: 0, kind: 'fixed', extra: 2 }],
  [0xd5, { header: 0, kind: 'fixed', extra: 3 }],
  [0xd6, { header: 0, kind: 'fixed', extra: 5 }],
  [0xd7, { header: 0, kind: 'fixed', extra: 9 }],
  [0xd8, { header: 0, kind: 'fixed', extra: 17 }],
  [0xd9, { header: 1, kind: 'bytes', extra: 0 }],
  [0xda, { header: 2, kind: 'bytes', extra: 0 }],
  [0xdb, { header: 4, kind: 'bytes', extra: 0 }],
  [0xdc, { header: 2, kind: 'array', extra: 0 }],
  [0xdd, { header: 4, kind: 'array', extra: 0 }],
  [0xde, { header: 2, kind: 'map', extra: 0 }],
  [0xdf, { header: 4, kind: 'map', extra: 0 }],
]);

function headerSize(b: number): HeaderSize {
  const size = SIZES.get(b);
  // 0xc1 is the one byte the spec never uses.
  if (!size) throw new MsgpackError(`invalid MessagePack type byte 0x${b.toString(16)}`);
  return size;
}

function readUint(buf: Uint8Array, p: number, bytes: number): number {
  let n = 0;
  for (let i = 0; i < bytes; i++) n = n * 256 + (buf[p + i] as number);
  return n;
}

/**
 * The values of a stream of MessagePack values one after another (InfluxDB's chunked answer: one
 * value per chunk), each decoded once it has arrived whole. A value cut off by the end of the
 * stream is an error: the server (or a proxy) ended the answer early.
 */
export async function* msgpackValues(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  let pending: Uint8Array = new Uint8Array(0);
  // The scan of a value cut by the end of a chunk, resumed when the next chunk arrives.
  const progress: ScanProgress = { p: 0, remaining: 0 };
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : concat(pending, chunk);
    let pos = 0;
    while (pos < pending.length) {
      const end = msgpackEnd(pending, pos, progress);
      if (end < 0) break;
      yield decodeMsgpack(pending, pos, end);
      pos = end;
    }
    // What is left starts a value: its scan progress is relative to it, as `pending` will be.
    if (pos > 0) progress.p -= pos;
    pending = pos === pending.length ? new Uint8Array(0) : pending.subarray(pos);
  }
  if (pending.length > 0)
    throw new MsgpackError(`the answer ended in the middle of a value (${pending.length} bytes)`);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Decodes the one value in `buf[start, end)` (a range `msgpackEnd` found complete). */
export function decodeMsgpack(buf: Uint8Array, start = 0, end = buf.length): unknown {
  const decoder = new Decoder(buf, start, end);
  const value = decoder.value();
  if (decoder.pos !== end)
    throw new MsgpackError(`${end - decoder.pos} bytes left after a MessagePack value`);
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Decoder {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  pos: number;

  constructor(buf: Uint8Array, start: number, end: number) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.#end = end;
  }

  value(): unknown {
    const b = this.#byte();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return this.#map(b & 0x0f);
    if (b <= 0x9f) return this.#array(b & 0x0f);
    if (b <= 0xbf) return this.#string(b & 0x1f);
    const view = this.#view;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        return view.getFloat32(this.#take(4));
      case 0xcb:
        return view.getFloat64(this.#take(8));
      case 0xcc:
        return this.#byte();
      case 0xcd:
        return view.getUint16(this.#take(2));
      case 0xce:
        return view.getUint32(this.#take(4));
      case 0xcf: {
        const p = this.#take(8);
        return view.getUint32(p) * TWO_32 + view.getUint32(p + 4);
      }
      case 0xd0:
        return view.getInt8(this.#take(1));
      case 0xd1:
        return view.getInt16(this.#take(2));
      case 0xd2:
        return view.getInt32(this.#take(4));
      case 0xd3: {
        const p = this.#take(8);
        return view.getInt32(p) * TWO_32 + view.getUint32(p + 4);
      }
      case 0xd9:
        return this.#string(this.#byte());
      case 0xda:
        return this.#string(view.getUint16(this.#take(2)));
      case 0xdb:
        return this.#string(view.getUint32(this.#take(4)));
      case 0xdc:
        return this.#array(view.getUint16(this.#take(2)));
      case 0xdd:
        return this.#array(view.getUint32(this.#take(4)));
      case 0xde:
        return this.#map(view.getUint16(this.#take(2)));
      case 0xdf:
        return this.#map(view.getUint32(this.#take(4)));
      case 0xc4:
        return this.#bytes(this.#byte());
      case 0xc5:
        return this.#bytes(view.getUint16(this.#take(2)));
      case 0xc6:
        return this.#bytes(view.getUint32(this.#take(4)));
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return this.#ext(2 ** (b - 0xd4));
      case 0xc7:
        return this.#ext(this.#byte());
      case 0xc8:
        return this.#ext(view.getUint16(this.#take(2)));
      case 0xc9:
        return this.#ext(view.getUint32(this.#take(4)));
      default:
        throw new MsgpackError(`invalid MessagePack type byte 0x${b.toString(16)}`);
    }
  }

  #byte(): number {
    if (this.pos >= this.#end) throw new MsgpackError('MessagePack value cut short');
    return this.#buf[this.pos++] as number;
  }

  /** Moves past `n` bytes and returns where they start. */
  #take(n: number): number {
    const p = this.pos;
    if (p + n > this.#end) throw new MsgpackError('MessagePack value cut short');
    this.pos = p + n;
    return p;
  }

  #string(n: number): string {
    const p = this.#take(n);
    const buf = this.#buf;
    // Tag values, keys and column names are short ASCII: a loop beats TextDecoder's call cost.
    if (n < 32) {
      let s = '';
      for (let i = p; i < p + n; i++) {
        const c = buf[i] as number;
        if (c > 0x7f) return utf8.decode(buf.subarray(p, p + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(buf.subarray(p, p + n));
  }

  #array(n: number): unknown[] {
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value();
    return out;
  }

  #map(n: number): Record<string, unknown> {
    // No prototype: a key "__proto__" from the wire is an ordinary key.
    const out: Record<string, unknown> = Object.create(null);
    for (let i = 0; i < n; i++) {
      const key = this.value();
      out[String(key)] = this.value();
    }
    return out;
  }

  #bytes(n: number): Uint8Array {
    const p = this.#take(n);
    return this.#buf.slice(p, p + n);
  }

  #ext(n: number): MsgpackExt {
    const type = this.#view.getInt8(this.#take(1));
    return { type, data: this.#bytes(n) };
  }
}
