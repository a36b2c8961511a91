import { describe, expect, it } from 'vitest';
import { decodeMsgpack, MsgpackError, msgpackEnd, msgpackValues } from '../../../src/telemetry/msgpack.ts';

/** Bytes from hex, spaces ignored: every format written out by hand from the msgpack spec. */
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const CASES: [string, string, unknown][] = [
  ['positive fixint', '7f', 127],
  ['negative fixint', 'e0', -32],
  ['nil, false, true', '93 c0 c2 c3', [null, false, true]],
  ['uint8/16/32/64', '94 cc ff cd 0100 ce 00010000 cf 0000000100000000', [255, 256, 65536, 2 ** 32]],
  ['int8/16/32', '93 d0 80 d1 8000 d2 80000000', [-128, -32768, -(2 ** 31)]],
  ['int64: an InfluxDB time in ms', 'd3 0000019a d20f2800', 1_764_460_800_000],
  ['negative int64', 'd3 ffffffff fffffffe', -2],
  ['float32, float64', '92 ca 3fc00000 cb 4036 0000 0000 0000', [1.5, 22]],
  ['fixstr, str8 with UTF-8', '92 a3 616263 d9 03 e2 84 83', ['abc', '℃']],
  ['fixmap', '82 a1 61 01 a1 62 90', { a: 1, b: [] }],
  ['array16, map16', '92 dc 0001 01 de 0001 a1 6b c3', [[1], { k: true }]],
  ['bin8', 'c4 02 0102', Uint8Array.from([1, 2])],
  ['fixext 4 (type 5)', 'd6 05 00000001', { type: 5, data: Uint8Array.from([0, 0, 0, 1]) }],
  ['ext8', 'c7 02 ff 0102', { type: -1, data: Uint8Array.from([1, 2]) }],
];

/** Several values one after another, as InfluxDB streams its chunks. */
const STREAM = hex(CASES.map(([, bytes]) => bytes).join(''));
const VALUES = CASES.map(([, , value]) => value);

async function collect(chunks: Uint8Array[]): Promise<unknown[]> {
  async function* source() {
    yield* chunks;
  }
  const out: unknown[] = [];
  for await (const v of msgpackValues(source())) out.push(v);
  return out;
}

const plain = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? [...x] : x)));

describe('MessagePack decoder', () => {
  it.each(CASES)('decodes %s', (_name, bytes, value) => {
    const buf = hex(bytes);
    expect(msgpackEnd(buf, 0)).toBe(buf.length);
    expect(plain(decodeMsgpack(buf))).toEqual(plain(value));
  });

  it('finds a value incomplete at every cut, and resumes a scan where it stopped', () => {
    const buf = hex(
      '82 a6 736572696573 91 92 d3 0000019af3a6d800 cb 4036000000000000 a4 6e616d65 d9 03 616263',
    );
    for (let cut = 0; cut < buf.length; cut++) {
      expect(msgpackEnd(buf.subarray(0, cut), 0), `cut at ${cut}`).toBe(-1);
      const progress = { p: 0, remaining: 0 };
      expect(msgpackEnd(buf.subarray(0, cut), 0, progress)).toBe(-1);
      expect(msgpackEnd(buf, 0, progress), `resumed after a cut at ${cut}`).toBe(buf.length);
    }
  });

  it('streams the same values however the bytes are cut into chunks', async () => {
    expect(plain(await collect([STREAM]))).toEqual(plain(VALUES));
    for (let cut = 1; cut < STREAM.length; cut++) {
      const parts = [STREAM.subarray(0, cut), STREAM.subarray(cut)];
      expect(plain(await collect(parts)), `cut at ${cut}`).toEqual(plain(VALUES));
    }
    const bytes = Array.from({ length: STREAM.length }, (_, i) => STREAM.subarray(i, i + 1));
    expect(plain(await collect(bytes))).toEqual(plain(VALUES));
  });

  it('refuses a stream that ends inside a value, and bytes that are no MessagePack', async () => {
    await expect(collect([STREAM.subarray(0, STREAM.length - 1)])).rejects.toThrow(
      /ended in the middle of a value/,
    );
    expect(() => decodeMsgpack(hex('c1'))).toThrow(MsgpackError);
    expect(() => decodeMsgpack(hex('92 01'))).toThrow(/cut short/);
    expect(() => decodeMsgpack(hex('01 02'))).toThrow(/1 bytes left/);
  });

  it('keeps a key named __proto__ as an ordinary key', () => {
    const value = decodeMsgpack(hex('81 a9 5f5f70726f746f5f5f 01')) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBeNull();
  });
});
