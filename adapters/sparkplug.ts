import {
  type AdapterContext,
  defineAdapter,
  type Emitter,
  emit,
  gatewayName,
  type Normalised,
} from './define.ts';
import { isProtocolMetric, mapMetric, typedValue } from './sparkplug/metrics.ts';
import {
  bdSeqOf,
  type SparkplugMetric,
  type SparkplugPayload,
  sparkplugPayloadSchema,
} from './sparkplug/payload.ts';
import {
  type BirthScope,
  checkSeq,
  deathMatches,
  type EdgeSession,
  emptySession,
  type MetricDef,
  markRebirthNeeded,
  resolveMetric,
  restoreSession,
  scopeFromBirth,
  sessionAfterDeath,
  sessionFromNodeBirth,
  withDevice,
  withSeq,
} from './sparkplug/session.ts';

/**
 * Sparkplug B 3.0 (Eclipse Tahu protobuf payloads), bridged by a site gateway under its site
 * prefix: `<site>/spBv1.0/<group>/<N|D><BIRTH|DATA|DEATH>/<edge>[/<device>]`
 * ([tck-id-topic-structure]). NCMD, DCMD and STATE are commands and host state, not device data,
 * so no route claims them.
 *
 * Asset ids: an edge node is `<group>.<edge>` and a device `<group>.<edge>.<device>`, because an
 * edge node id is only unique within its group; the "Edge Node Descriptor" is the pair
 * ([tck-id-payloads-nbirth-edge-node-descriptor]). "/" cannot appear in an id
 * ([tck-id-intro-edge-node-id-chars]), "." can, so `a.b` + `c` and `a` + `b.c` would collide;
 * group and edge names rarely contain dots.
 *
 * Both routes share one state per edge node (`stateKey`): the session, the seq counter and the
 * alias maps of the NBIRTH and every DBIRTH (see sparkplug/session.ts). It lives in the ingest's
 * memory, so after a restart DATA cannot be mapped until the edge node re-births: the adapter then
 * reports `availability`/`rebirth_needed` for the edge node, with `group` and `edgeNode` in the
 * detail, for whoever sends the NCMD `Node Control/Rebirth`
 * ([tck-id-operational-behavior-host-reordering-rebirth]). A sequence gap is reported the same
 * way: it is data lost between edge and xiaoer, nothing a maintainer can repair, so not a `fault`.
 *
 * An edge node is a gateway: each message announces it (`presence`, gateway
 * `sparkplug:<group>.<edge>`), offline for an NDEATH of the current session, online for anything
 * else it publishes. Not only the NBIRTH: that is QoS 0 and never retained ([tck-id-payloads-nbirth-qos],
 * [tck-id-payloads-nbirth-retain]), so a persistent session does not keep it while xiaoer is
 * down, and after a restart the next NDATA may be the first sign of the node.
 */

/** Timestamps further off than this from the arrival are edge clock errors (local time sent as UTC). */
const SANE_PAST_MS = 60 * 60_000;
const SANE_FUTURE_MS = 5 * 60_000;
// 6.4.9.1 quality codes; only Good data becomes a reading.
const QUALITY_BAD = 0;
const QUALITY_GOOD = 192;

type Params = Readonly<Record<string, string>>;
const edgeAssetId = (p: Params): string => `${p.group ?? ''}.${p.edge ?? ''}`;
const deviceAssetId = (p: Params): string => `${edgeAssetId(p)}.${p.device ?? ''}`;

interface Message {
  p: SparkplugPayload;
  ctx: AdapterContext;
  e: Emitter;
  /** Asset id of the edge node, also for device messages. */
  edge: string;
}

const notFinite = (v: unknown): boolean => typeof v === 'number' && !Number.isFinite(v);

function saneTs(ts: number | undefined, receivedAt: number): number {
  if (ts === undefined || ts <= 0) return receivedAt;
  return ts >= receivedAt - SANE_PAST_MS && ts <= receivedAt + SANE_FUTURE_MS ? ts : receivedAt;
}

function emitMetric(m: Message, metric: SparkplugMetric, def: MetricDef): void {
  // is_null: no current value ([tck-id-operational-behavior-data-publish-nbirth-values]);
  // is_historical: store-and-forward backfill (6.4.6), which must not drive live rules.
  if (metric.isNull || metric.isHistorical || !metric.raw || isProtocolMetric(def.name)) return;
  const ts = saneTs(metric.timestamp ?? m.p.timestamp, m.ctx.receivedAt);
  if (metric.quality !== undefined && metric.quality !== QUALITY_GOOD) {
    // Bad is the sensor's own verdict on the value (like a sentinel); Stale (500) is just skipped.
    if (metric.quality === QUALITY_BAD) {
      m.e.sensorFault({ metric: def.name, error: 'bad_quality', quality: metric.quality }, { ts });
    }
    return;
  }
  const value = typedValue(metric.raw, metric.datatype ?? def.datatype);
  if (value === undefined) return;
  const engUnit = metric.engUnit ?? def.engUnit;
  const reading = notFinite(value) ? undefined : mapMetric(def.name, value, engUnit);
  if (!reading || notFinite(reading.value)) {
    // A float or double may carry NaN or ±Infinity, and a unit conversion may overflow (1e308 kW):
    // no measurement a rule can judge, so the sensor's fault. Checked before mapping too, since a
    // NaN leak input would otherwise map to `water_leak: true` (NaN !== 0).
    const detail = { metric: def.name, error: 'not_finite', value: String(value) };
    m.e.sensorFault(engUnit === undefined ? detail : { ...detail, engUnit }, { ts });
    return;
  }
  m.e.reading(reading.metric, reading.value, reading.unit, { ts });
}

/** Emits the payload's metrics against a BIRTH's definitions; returns the aliases it did not know. */
function emitMetrics(m: Message, scope: BirthScope): number[] {
  const unknownAliases: number[] = [];
  for (const metric of m.p.metrics) {
    const def = resolveMetric(scope, metric);
    if (def) emitMetric(m, metric, def);
    else if (metric.alias !== undefined) unknownAliases.push(metric.alias);
  }
  return unknownAliases;
}

function rebirthNeeded(m: Message, session: EdgeSession, detail: Record<string, unknown>): EdgeSession {
  const { session: next, report } = markRebirthNeeded(session, m.ctx.receivedAt);
  if (report) {
    const { group, edge } = m.ctx.params;
    m.e.event('availability', 'rebirth_needed', { group, edgeNode: edge, ...detail }, { assetId: m.edge });
  }
  return next;
}

function trackSeq(m: Message, session: EdgeSession): EdgeSession {
  const verdict = checkSeq(session.seq, m.p.seq);
  const next = withSeq(session, m.p.seq);
  if (verdict.kind !== 'gap') return next;
  return rebirthNeeded(m, next, { reason: 'sequence_gap', expected: verdict.expected, received: m.p.seq });
}

/** DATA that refers to aliases of a BIRTH this session has not seen: map nothing, ask for a rebirth. */
function unmappable(m: Message, prior: EdgeSession | undefined, detail: Record<string, unknown>): Normalised {
  const session = rebirthNeeded(m, withSeq(prior ?? emptySession(), m.p.seq), {
    reason: 'no_birth',
    ...detail,
  });
  return { ...m.e.out, state: session };
}

function afterData(m: Message, session: EdgeSession, scope: BirthScope): Normalised {
  const unknown = emitMetrics(m, scope);
  // 5.15: a DATA metric the BIRTH did not define is a reason to request a rebirth.
  const next =
    unknown.length > 0 ? rebirthNeeded(m, session, { reason: 'unknown_alias', aliases: unknown }) : session;
  return { ...m.e.out, state: next };
}

function onNodeBirth(m: Message): Normalised {
  // [tck-id-payloads-nbirth-seq]: 3.0 allows any seq 0..255 here; it is the new baseline.
  const session = sessionFromNodeBirth(m.p.metrics, m.p.seq, bdSeqOf(m.p));
  m.e.event('availability', 'online', undefined, { ts: saneTs(m.p.timestamp, m.ctx.receivedAt) });
  emitMetrics(m, session.node);
  return { ...m.e.out, state: session };
}

function onNodeData(m: Message, prior: EdgeSession | undefined): Normalised {
  if (!prior?.born) return unmappable(m, prior, {});
  return afterData(m, trackSeq(m, prior), prior.node);
}

function onNodeDeath(m: Message, prior: EdgeSession | undefined): Normalised {
  const bdSeq = bdSeqOf(m.p);
  if (!deathMatches(prior, bdSeq)) return m.e.out;
  m.e.presence(gatewayName('sparkplug', m.edge), false);
  // [tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline] and
  // [...-ndeath-devices-offline]: the node and its devices, at the host's time. An NDEATH has no
  // seq ([tck-id-payloads-ndeath-seq]).
  m.e.event('availability', 'offline', bdSeq === undefined ? undefined : { bdSeq });
  for (const [device, d] of prior?.devices ?? []) {
    if (d.online) m.e.event('availability', 'offline', undefined, { assetId: `${m.edge}.${device}` });
  }
  return { ...m.e.out, state: sessionAfterDeath(prior) };
}

function onDeviceBirth(m: Message, prior: EdgeSession | undefined, device: string): Normalised {
  // [tck-id-payloads-dbirth-seq-inc]: a DBIRTH continues the edge node's sequence.
  const scope = scopeFromBirth(m.p.metrics);
  const session = withDevice(trackSeq(m, prior ?? emptySession()), device, { ...scope, online: true });
  m.e.event('availability', 'online', undefined, { ts: saneTs(m.p.timestamp, m.ctx.receivedAt) });
  emitMetrics(m, scope);
  return { ...m.e.out, state: session };
}

function onDeviceData(m: Message, prior: EdgeSession | undefined, device: string): Normalised {
  const d = prior?.devices.get(device);
  if (!prior || !d?.online) return unmappable(m, prior, { device });
  return afterData(m, trackSeq(m, prior), d);
}

function onDeviceDeath(m: Message, prior: EdgeSession | undefined, device: string): Normalised {
  let session = trackSeq(m, prior ?? emptySession());
  const d = session.devices.get(device);
  if (d) session = withDevice(session, device, { ...d, online: false });
  // At the DDEATH's own timestamp:
  // [tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-offline].
  m.e.event('availability', 'offline', undefined, { ts: saneTs(m.p.timestamp, m.ctx.receivedAt) });
  return { ...m.e.out, state: session };
}

function message(p: SparkplugPayload, ctx: AdapterContext): Message {
  return { p, ctx, e: emit(ctx), edge: edgeAssetId(ctx.params) };
}

export const sparkplug = defineAdapter({
  id: 'sparkplug',
  description: 'Sparkplug B 3.0 edge nodes and devices bridged under the site prefix',
  metrics: [
    'temperature_c',
    'supply_air_temperature_c',
    'return_air_temperature_c',
    'setpoint_c',
    'humidity_pct',
    'pressure_kpa',
    'flow_lpm',
    'power_w',
    'energy_wh',
    'voltage_v',
    'current_a',
    'battery_pct',
    'rssi_dbm',
    'water_leak',
    'relay_on',
    'valve_open',
    'fan_running',
    'filter_alarm',
  ],
  passThrough: '`sp_<metric path>` for a Sparkplug metric without a canonical name',
  routes: [
    {
      topic: '{site}/spBv1.0/{group}/{type}/{edge}',
      payload: 'binary',
      schema: sparkplugPayloadSchema,
      where: { type: /^N(BIRTH|DATA|DEATH)$/ },
      deviceId: edgeAssetId,
      stateKey: edgeAssetId,
      toReadings(p, ctx) {
        const m = message(p, ctx);
        const prior = restoreSession(ctx.state);
        if (ctx.params.type === 'NDEATH') return onNodeDeath(m, prior);
        m.e.presence(gatewayName('sparkplug', m.edge), true);
        if (ctx.params.type === 'NBIRTH') return onNodeBirth(m);
        return onNodeData(m, prior);
      },
    },
    {
      topic: '{site}/spBv1.0/{group}/{type}/{edge}/{device}',
      payload: 'binary',
      schema: sparkplugPayloadSchema,
      where: { type: /^D(BIRTH|DATA|DEATH)$/ },
      deviceId: deviceAssetId,
      stateKey: edgeAssetId,
      toReadings(p, ctx) {
        const m = message(p, ctx);
        const prior = restoreSession(ctx.state);
        const device = ctx.params.device ?? '';
        // Published by the edge node, so it is connected.
        m.e.presence(gatewayName('sparkplug', m.edge), true);
        if (ctx.params.type === 'DBIRTH') return onDeviceBirth(m, prior, device);
        if (ctx.params.type === 'DDATA') return onDeviceData(m, prior, device);
        return onDeviceDeath(m, prior, device);
      },
    },
  ],
});
