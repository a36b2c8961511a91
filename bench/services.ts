import { type RunningMosquitto, startMosquitto } from '../test/helpers/mosquitto.ts';

export { startInfluxd } from '../test/helpers/influxdb.ts';

export type { RunningMosquitto } from '../test/helpers/mosquitto.ts';

/**
 * Debian's Mosquitto as the reference broker of scenario A, private on a free loopback port.
 * Unlike the tests' it keeps nothing on disk, and it lifts the per-client limits of 20 QoS 1
 * messages in flight (which would make it measure the subscriber's round trip) and 1000 queued
 * (beyond which it drops QoS 1 messages to a slow subscriber and so looks faster than it is).
 */
export function startBenchMosquitto(): Promise<RunningMosquitto> {
  return startMosquitto({
    persistence: false,
    extraConfig: ['max_inflight_messages 0', 'max_queued_messages 0', 'set_tcp_nodelay true'],
  });
}

/**
 * The external broker of the `external` and `cluster` scenarios (issue 15): in memory, with no
 * limit on the messages queued for a session (Debian's default of 1000 would drop QoS 1 messages
 * while xiaoer is behind, as deploy/README.md explains), and 100 messages in flight towards each
 * client, more than xiaoer's 64 (`mqtt.inFlight`): Mosquitto's default of 20 would cap the
 * pipelining at 20 messages. (Mosquitto 2.0.11 does not hold this limit towards an MQTT 5 client
 * that acknowledges: see BENCHMARKS.md, issue 15.)
 */
export function startIngestMosquitto(): Promise<RunningMosquitto> {
  return startMosquitto({
    persistence: false,
    extraConfig: ['max_inflight_messages 100', 'max_queued_messages 0', 'set_tcp_nodelay true'],
  });
}
