import {
  type Frame,
  gatewayConnect,
  malformedFrame,
  oddConnect,
  publishFrame,
  sessionFrame,
  truncatedFrame,
  wrongPasswordConnect,
} from './frames.ts';
import { disconnectPacket } from './mqtt-encode.ts';
import { Rng } from './random.ts';
import { SITES } from './topics.ts';

/**
 * What one fuzz connection does, derived from the run's seed and the connection's number alone,
 * so connection 1234 of seed 42 is the same bytes whatever ran beside it.
 */
export type Profile =
  /** A gateway's real login, then anything a session may send. */
  | 'gateway'
  /** A gateway's real login, then a few hundred publishes in one write. */
  | 'pipeline'
  /** A CONNECT wrong in its fields or flags, then session frames. */
  | 'odd-login'
  /** A real gateway name with a wrong password, from a few addresses (the login throttle's case). */
  | 'guessing'
  /** Session frames with no CONNECT first [MQTT-3.1.0-1]. */
  | 'no-connect'
  /** Broken framing, before or after a login. */
  | 'garbage';

export interface Chunk {
  bytes: Buffer;
  /** Frames complete once this chunk is written (counted from the connection's start). */
  framesDone: number;
}

export interface ConnectionPlan {
  index: number;
  profile: Profile;
  /**
   * Source address on 127.0.0.0/8: gateways, strangers and guessers come from separate pools, so
   * the throttle shuts the guessers out without touching the gateways, and no address comes near
   * the broker's per-address connection cap.
   */
  address: string;
  frames: Frame[];
  chunks: Chunk[];
  /**
   * 'ping': PINGREQ, then FIN once the PINGRESP (every packet before it was parsed and given to
   * the broker's hooks) or the close came; 'end': FIN at once (aedes drops what it has not parsed
   * yet); 'reset': an abrupt RST.
   */
  ending: 'ping' | 'end' | 'reset';
  /** Answers PUBREC with PUBREL and QoS 1 deliveries with PUBACK, like a real client. */
  responsive: boolean;
  /**
   * The CONNECT goes alone and the rest waits for the CONNACK, as most clients do; otherwise all
   * is sent at once and aedes parses (and may refuse) the rest while the login is under way.
   */
  awaitConnack: boolean;
}

const PROFILES: readonly (readonly [Profile, number])[] = [
  ['gateway', 44],
  ['pipeline', 3],
  ['odd-login', 20],
  ['guessing', 10],
  ['no-connect', 6],
  ['garbage', 17],
];

function sourceAddress(rng: Rng, profile: Profile): string {
  if (profile === 'gateway' || profile === 'pipeline') return `127.61.0.${rng.int(1, 64)}`;
  if (profile === 'guessing') return `127.63.0.${rng.int(1, 8)}`;
  return `127.62.${rng.int(0, 3)}.${rng.int(1, 250)}`;
}

function framesOf(rng: Rng, profile: Profile, site: string): Frame[] {
  const session = (n: number) => Array.from({ length: n }, () => sessionFrame(rng, site));
  const count = rng.count(1, 10, 80);
  switch (profile) {
    case 'gateway':
      return [gatewayConnect(rng, site), ...session(count)];
    case 'pipeline':
      return [
        gatewayConnect(rng, site),
        ...Array.from({ length: rng.int(100, 400) }, () => publishFrame(rng, site, true)),
        { kind: 'disconnect', bytes: disconnectPacket() },
      ];
    case 'odd-login':
      return [oddConnect(rng, site), ...session(rng.int(0, 6))];
    case 'guessing':
      return [wrongPasswordConnect(rng, site), ...session(rng.int(0, 3))];
    case 'no-connect':
      return session(rng.int(1, 6));
    case 'garbage': {
      const lead = rng.chance(0.5) ? [gatewayConnect(rng, site), ...session(rng.int(0, 4))] : [];
      const broken = rng.chance(0.6) ? malformedFrame(rng) : truncatedFrame(rng);
      return [...lead, broken, ...session(rng.int(0, 3))];
    }
  }
}

/** The bytes as TCP writes: all at once, one per frame, or cut at random points (also mid-header). */
function chunked(rng: Rng, frames: readonly Frame[], before = 0): Chunk[] {
  const how = rng.weighted<'pipelined' | 'per-frame' | 'split'>([
    ['pipelined', 45],
    ['per-frame', 30],
    ['split', 25],
  ]);
  if (how === 'per-frame') return frames.map((f, i) => ({ bytes: f.bytes, framesDone: before + i + 1 }));
  const all = Buffer.concat(frames.map((f) => f.bytes));
  if (how === 'pipelined' || all.length < 2) return [{ bytes: all, framesDone: before + frames.length }];
  const cuts = [
    ...new Set(
      Array.from({ length: rng.int(1, Math.min(30, all.length - 1)) }, () => rng.int(1, all.length - 1)),
    ),
  ];
  cuts.sort((a, b) => a - b);
  const ends: number[] = [];
  let end = 0;
  for (const f of frames) {
    end += f.bytes.length;
    ends.push(end);
  }
  const done = (upTo: number) => ends.filter((e) => e <= upTo).length;
  return [...cuts, all.length].map((to, i, list) => ({
    bytes: all.subarray(i === 0 ? 0 : (list[i - 1] as number), to),
    framesDone: before + done(to),
  }));
}

export function planConnection(seed: number, index: number): ConnectionPlan {
  const rng = Rng.forConnection(seed, index);
  const profile = rng.weighted(PROFILES);
  const site = rng.pick(SITES);
  const frames = framesOf(rng, profile, site);
  // After a cut packet the broker rightly waits for its rest, and would take a PINGREQ for it.
  const waitsForMore = frames.some((f) => f.kind === 'truncated');
  const awaitConnack = frames[0]?.kind.startsWith('connect') === true && rng.chance(0.7);
  return {
    index,
    profile,
    address: sourceAddress(rng, profile),
    frames,
    chunks: awaitConnack
      ? [{ bytes: (frames[0] as Frame).bytes, framesDone: 1 }, ...chunked(rng, frames.slice(1), 1)]
      : chunked(rng, frames),
    awaitConnack,
    ending: !waitsForMore && rng.chance(0.85) ? 'ping' : rng.chance(0.85) ? 'end' : 'reset',
    responsive: rng.chance(0.6),
  };
}
