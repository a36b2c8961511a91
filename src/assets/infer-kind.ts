import type { DeviceEvent, Reading } from '../domain/types.ts';

/** Metrics that only one kind of asset reports, strongest evidence first. */
const KIND_BY_METRIC: readonly [metric: string, kind: string][] = [
  ['water_leak', 'plumbing'],
  ['pressure_kpa', 'plumbing'],
  ['flow_lpm', 'plumbing'],
  ['lock_state', 'lock'],
  ['setpoint_c', 'hvac'],
  ['hvac_mode', 'hvac'],
  ['hvac_running_state', 'hvac'],
  ['supply_air_temperature_c', 'hvac'],
];

/**
 * A best guess of an unknown device's kind from what it reports, for an admin to confirm.
 * `unknown` when nothing is telling (a bare temperature could be a room sensor or a pipe probe).
 */
export function inferKind(readings: readonly Reading[], events: readonly DeviceEvent[]): string {
  const metrics = new Set(readings.map((r) => r.metric));
  for (const [metric, kind] of KIND_BY_METRIC) if (metrics.has(metric)) return kind;
  if (events.some((e) => e.code === 'jammed')) return 'lock';
  return 'unknown';
}
