import { readFileSync } from 'node:fs';
import { Directory } from '../../src/config/directory.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import { createLogger } from '../../src/core/logger.ts';
import { type Scheduler, systemScheduler } from '../../src/core/scheduler.ts';
import type { Alarm, AlarmTransition, DeviceEvent, Reading, ReadingValue } from '../../src/domain/types.ts';
import { EventLog } from '../../src/events/event-log.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { EXAMPLE_CONFIG } from './test-app.ts';

export function exampleConfig(): Config {
  return parseConfigText(readFileSync(EXAMPLE_CONFIG, 'utf8'), EXAMPLE_CONFIG);
}

export const silentLog = createLogger('silent');

export const reading = (
  assetId: string,
  metric: string,
  value: ReadingValue,
  ts: number,
  site = 'xincheng',
): Reading => ({
  site,
  assetId,
  metric,
  value,
  ts,
});

export const event = (
  assetId: string,
  kind: DeviceEvent['kind'],
  code: string,
  ts: number,
  site = 'xincheng',
): DeviceEvent => ({ site, assetId, kind, code, ts });

/**
 * A ticket service over a real SQLite store (in a file when `file` is given, else in memory).
 * The system scheduler by default (vitest's fake timers drive it), or a manual one.
 */
export async function ticketHarness(file = ':memory:', scheduler: Scheduler = systemScheduler) {
  const config = exampleConfig();
  const directory = new Directory(config);
  const store = new SqliteStore(file);
  await store.migrate();
  const bus = new EventBus();
  const clock = scheduler;
  const tickets = new TicketService({ store, directory, clock, bus, log: silentLog });
  const eventLog = new EventLog({ store, bus });
  return { config, directory, store, bus, clock, scheduler, tickets, eventLog };
}

/** The example's B1 riser leak, as the water-leak rule raises it; `raisedAt` defaults to now. */
export function leakAlarm(overrides: Partial<Alarm> = {}): Alarm {
  const at = overrides.raisedAt ?? Date.now();
  const assetId = overrides.assetId ?? 'leak-b1-riser';
  return {
    site: 'xincheng',
    assetId,
    ruleId: 'water-leak',
    fault: 'leak',
    meaning: 'condition',
    category: 'plumbing',
    severity: 'critical',
    raisedAt: at,
    cause: reading(assetId, 'water_leak', true, at),
    ...overrides,
  };
}

export const raisedLeak = (overrides: Partial<Alarm> = {}): AlarmTransition => ({
  type: 'raised',
  alarm: leakAlarm(overrides),
});

export const clearedLeak = (overrides: Partial<Alarm> = {}): AlarmTransition => ({
  type: 'cleared',
  alarm: { ...leakAlarm(overrides), clearedAt: Date.now() },
});
