import type { SeedMessage } from './fixtures.ts';
import { mutateJson, nested, oddValueText } from './json-mutate.ts';
import type { Rng } from './random.ts';
import { sparkplugPayload } from './sparkplug-bytes.ts';

/** Byte sequences that are not UTF-8 [RFC 3629 section 3]: stray, overlong, surrogate, past U+10FFFF. */
const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe6, 0xb0], // a 3-byte character cut short
].map((b) => Buffer.from(b));

export const invalidUtf8 = (rng: Rng): Buffer => rng.pick(INVALID_UTF8);

/** Damage at the byte level: the parser and the strict UTF-8 decoding see it first. */
export function mutateBytes(rng: Rng, input: Buffer): Buffer {
  const b = Buffer.from(input);
  const at = (extra = 0) => rng.int(0, Math.max(0, b.length - 1 + extra));
  switch (rng.int(0, 7)) {
    case 0: {
      for (let i = rng.int(1, 8); i > 0 && b.length > 0; i--) {
        const pos = at();
        b[pos] = (b[pos] as number) ^ (1 << rng.int(0, 7));
      }
      return b;
    }
    case 1:
      return b.subarray(0, at());
    case 2: {
      const pos = at(1);
      return Buffer.concat([b.subarray(0, pos), invalidUtf8(rng), b.subarray(pos)]);
    }
    case 3: {
      const start = at();
      const slice = b.subarray(start, start + rng.int(1, 64));
      const copies = Array<Buffer>(rng.int(2, 50)).fill(slice);
      return Buffer.concat([b.subarray(0, start), ...copies, b.subarray(start)]);
    }
    case 4: {
      const pos = at(1);
      return Buffer.concat([b.subarray(0, pos), rng.bytes(rng.int(1, 32)), b.subarray(pos)]);
    }
    case 5:
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]); // a UTF-8 byte order mark
    case 6:
      return Buffer.concat([b, Buffer.from(rng.pick(['xyz', '}', ']', ',', '\u0000', ' \n\t']))]);
    default:
      return Buffer.concat([b, b]);
  }
}

/** A payload that stands on its own: bombs, bare values, emptiness, sheer size. */
function standalone(rng: Rng): Buffer {
  return rng.pick<() => Buffer>([
    () => Buffer.from(nested(rng, rng.pick([33, 64, 1000, 20_000, 100_000]))),
    () => Buffer.from('['.repeat(rng.int(1000, 100_000))), // never closed
    () => Buffer.from(oddValueText(rng)),
    () => Buffer.from(`{"water_leak":${oddValueText(rng)}}`),
    () => Buffer.alloc(0),
    () => Buffer.from(' '),
    () => rng.bytes(rng.int(1, 512)),
    // Past the ingest's 256 KiB payload limit (too_large); rare, they are large.
    () =>
      rng.chance(0.1) ? Buffer.from(`{"water_leak":true,"x":"${'x'.repeat(270_000)}"}`) : Buffer.from('{}'),
  ])();
}

/**
 * A payload for a message on `seed`'s topic: now and then the real one (so the normal path runs
 * between the abuse), mostly a mutation of it, sometimes something unrelated.
 */
export function payloadFor(rng: Rng, seed: SeedMessage): Buffer {
  const sparkplug = seed.adapter === 'sparkplug';
  return rng.weighted<() => Buffer>([
    [() => seed.payload, 15],
    [() => Buffer.from(mutateJson(rng, seed.payload.toString('utf8'))), seed.json ? 40 : 0],
    [() => sparkplugPayload(rng), sparkplug ? 40 : 0],
    [() => mutateBytes(rng, seed.payload), 25],
    [() => mutateBytes(rng, sparkplugPayload(rng)), sparkplug ? 5 : 0],
    [() => standalone(rng), 15],
    [() => mutateBytes(rng, Buffer.from(mutateJson(rng, seed.json ? seed.payload.toString() : '{}'))), 5],
  ])();
}
