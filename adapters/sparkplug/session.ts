/**
 * What xiaoer remembers about one Sparkplug edge node between messages: its session (the NBIRTH's
 * bdSeq), the last sequence number, and the metric definitions (names, datatypes, aliases) from
 * the NBIRTH and every DBIRTH. It is the route state of both Sparkplug routes, keyed by the edge
 * node, so node and device messages see the same sequence (6.4.5: seq counts every message of
 * the edge node, its devices' included). Immutable: each message returns a new value.
 */
import type { SparkplugMetric } from './payload.ts';

export interface MetricDef {
  name: string;
  datatype?: number;
  engUnit?: string;
}

/** Metric definitions of the edge node itself or of one device, from its BIRTH. */
export interface BirthScope {
  aliases: ReadonlyMap<number, MetricDef>;
  names: ReadonlyMap<string, MetricDef>;
}

export interface DeviceSession extends BirthScope {
  online: boolean;
}

export interface EdgeSession {
  readonly tag: 'sparkplug-edge';
  /** An NBIRTH of the current session was seen, so node metrics and bdSeq are known. */
  born: boolean;
  /** bdSeq of that NBIRTH, to tell the matching NDEATH from a stale one ([tck-id-payloads-ndeath-bdseq]). */
  bdSeq?: number;
  /** Last seq received from the edge node; unknown until the first message after a restart. */
  seq?: number;
  node: BirthScope;
  devices: ReadonlyMap<string, DeviceSession>;
  /** When `rebirth_needed` was last reported; cleared by the next NBIRTH. */
  rebirthNeededAt?: number;
}

const EMPTY_SCOPE: BirthScope = { aliases: new Map(), names: new Map() };

export function emptySession(): EdgeSession {
  return { tag: 'sparkplug-edge', born: false, node: EMPTY_SCOPE, devices: new Map() };
}

/** The route state back as a session (undefined after a restart or for foreign state). */
export function restoreSession(state: unknown): EdgeSession | undefined {
  const s = state as Partial<EdgeSession> | undefined;
  return s?.tag === 'sparkplug-edge' ? (s as EdgeSession) : undefined;
}

/**
 * Definitions from a BIRTH: every metric there has a name and, when aliases are used, an alias
 * ([tck-id-payloads-alias-birth-requirement]) and a datatype ([tck-id-payloads-metric-datatype-req]).
 */
export function scopeFromBirth(metrics: readonly SparkplugMetric[]): BirthScope {
  const aliases = new Map<number, MetricDef>();
  const names = new Map<string, MetricDef>();
  for (const m of metrics) {
    if (m.name === undefined) continue;
    const def: MetricDef = { name: m.name };
    if (m.datatype !== undefined) def.datatype = m.datatype;
    if (m.engUnit !== undefined) def.engUnit = m.engUnit;
    names.set(m.name, def);
    if (m.alias !== undefined) aliases.set(m.alias, def);
  }
  return { aliases, names };
}

/** What a DATA metric refers to: by alias ([tck-id-payloads-alias-data-cmd-requirement]) or name. */
export function resolveMetric(scope: BirthScope, m: SparkplugMetric): MetricDef | undefined {
  // Some edges send both; the name is then authoritative.
  if (m.name !== undefined) return scope.names.get(m.name) ?? { name: m.name };
  return m.alias === undefined ? undefined : scope.aliases.get(m.alias);
}

export type SeqVerdict =
  | { kind: 'in_order' }
  /** Same seq as the last message: a QoS 1 redelivery (e.g. xiaoer failed to record it). */
  | { kind: 'repeat' }
  | { kind: 'gap'; expected: number }
  /** No baseline (first message since a restart) or no seq in the payload: nothing to compare. */
  | { kind: 'unchecked' };

/**
 * [tck-id-payloads-sequence-num-incrementing]: each message's seq is one more than the previous
 * one from the same edge node, 255 wrapping to 0. Anything else means a message was lost or
 * reordered on the way (5.9); xiaoer keeps no reorder buffer, so it is reported straight away.
 */
export function checkSeq(last: number | undefined, seq: number | undefined): SeqVerdict {
  if (last === undefined || seq === undefined) return { kind: 'unchecked' };
  const expected = (last + 1) % 256;
  if (seq === expected) return { kind: 'in_order' };
  if (seq === last) return { kind: 'repeat' };
  return { kind: 'gap', expected };
}

/** The session after a message with `seq` (a payload without seq leaves the baseline as it was). */
export function withSeq(session: EdgeSession, seq: number | undefined): EdgeSession {
  return seq === undefined || seq === session.seq ? session : { ...session, seq };
}

/** How often `rebirth_needed` is repeated while the edge node has not re-birthed. */
export const REBIRTH_REPEAT_MS = 5 * 60_000;

/** Marks the session as needing a rebirth; true when that should be reported now. */
export function markRebirthNeeded(
  session: EdgeSession,
  now: number,
): { session: EdgeSession; report: boolean } {
  const last = session.rebirthNeededAt;
  if (last !== undefined && now - last < REBIRTH_REPEAT_MS && now >= last) return { session, report: false };
  return { session: { ...session, rebirthNeededAt: now }, report: true };
}

/** A new session from an NBIRTH: everything from the previous session is forgotten. */
export function sessionFromNodeBirth(
  metrics: readonly SparkplugMetric[],
  seq: number | undefined,
  bdSeq: number | undefined,
): EdgeSession {
  const session: EdgeSession = { ...emptySession(), born: true, node: scopeFromBirth(metrics) };
  if (seq !== undefined) session.seq = seq;
  if (bdSeq !== undefined) session.bdSeq = bdSeq;
  return session;
}

export function withDevice(session: EdgeSession, deviceId: string, device: DeviceSession): EdgeSession {
  const devices = new Map(session.devices);
  devices.set(deviceId, device);
  return { ...session, devices };
}

/**
 * Whether an NDEATH ends the current session. [tck-id-payloads-ndeath-bdseq] makes the NDEATH
 * (the MQTT Will) carry the bdSeq of the NBIRTH it belongs to, and 6.4.25 bumps bdSeq on every
 * CONNECT so that a late Will of an earlier connection can be told apart: such a death is stale.
 * When either side has no bdSeq (non-conformant edge, or xiaoer restarted), it counts: reporting
 * an offline that was real matters more than a rare false one.
 */
export function deathMatches(session: EdgeSession | undefined, bdSeq: number | undefined): boolean {
  return session?.bdSeq === undefined || bdSeq === undefined || session.bdSeq === bdSeq;
}

/** The session after an NDEATH: nothing is known until the next NBIRTH, except its bdSeq. */
export function sessionAfterDeath(session: EdgeSession | undefined): EdgeSession {
  const dead = emptySession();
  if (session?.bdSeq !== undefined) dead.bdSeq = session.bdSeq;
  return dead;
}
