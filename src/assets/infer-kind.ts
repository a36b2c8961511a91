import { kindOfMetric } from '../../adapters/metrics.ts';
import type { DeviceEvent, Reading } from '../domain/types.ts';

/**
 * A best guess of an unknown device's kind from what it reports, for an admin to confirm: the kind
 * its metrics point to when they all point to the same one (the metric vocabulary says which
 * metric only one kind reports). `unknown` when nothing is telling or the metrics disagree (a bare
 * temperature could be a room sensor or a pipe probe).
 */
export function inferKind(readings: readonly Reading[], events: readonly DeviceEvent[]): string {
  const kinds = new Set<string>();
  for (const r of readings) {
    const kind = kindOfMetric(r.metric);
    if (kind) kinds.add(kind);
  }
  if (kinds.size === 0 && events.some((e) => e.code === 'jammed')) return 'lock';
  return kinds.size === 1 ? ([...kinds][0] as string) : 'unknown';
}
