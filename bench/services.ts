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
