import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsumerRunner, type LogConsumer } from '../../../src/events/consumer.ts';
import type { LogEntry } from '../../../src/events/event-log.ts';
import { raisedLeak, silentLog, ticketHarness } from '../../helpers/domain.ts';
import { ManualScheduler } from '../../helpers/manual-scheduler.ts';

const T0 = Date.parse('2026-12-01T09:00:00Z');
const SEC = 1000;
const MIN = 60_000;
const desk = { name: 'desk', role: 'staff' };

class Endpoint implements LogConsumer {
  readonly id = 'webhook:test';
  readonly maxAttempts = 3;
  readonly received: LogEntry[] = [];
  down = false;
  /** Event ids it refuses outright (a poison message). */
  readonly refuse = new Set<number>();
  async handle(entry: LogEntry): Promise<boolean> {
    if (this.refuse.has(entry.event.id)) throw Object.assign(new Error('refused'), { permanent: true });
    if (this.down) throw new Error('connection refused');
    this.received.push(entry);
    return true;
  }
  retryable(err: unknown): boolean {
    return !(err as { permanent?: boolean }).permanent;
  }
}

describe('a durable consumer of the ticket event log', () => {
  let scheduler: ManualScheduler;
  let h: Awaited<ReturnType<typeof ticketHarness>>;
  let runners: ConsumerRunner[];
  beforeEach(async () => {
    scheduler = new ManualScheduler(T0);
    h = await ticketHarness(':memory:', scheduler);
    runners = [];
  });
  afterEach(async () => {
    for (const r of runners) await r.stop();
    await h.store.close();
  });

  const run = async (endpoint: Endpoint) => {
    const runner = new ConsumerRunner({
      consumer: endpoint,
      eventLog: h.eventLog,
      store: h.store,
      scheduler,
      log: silentLog,
      timing: { retryBaseMs: SEC, retryMaxMs: 8 * SEC, deadAfterMs: MIN, pollMs: 30 * SEC },
    });
    await runner.start();
    runners.push(runner);
    return runner;
  };
  /** Three ticket changes: raised, dispatched, closed. */
  const changes = async (assetId: string) => {
    await h.tickets.applyAlarm(raisedLeak({ assetId, raisedAt: scheduler.now() }));
    const t = (await h.store.listTickets({})).find((x) => x.assetId === assetId);
    if (!t) throw new Error('no ticket');
    await h.tickets.close(t.id, desk, { reason: 'test', resolution: 'duplicate' });
  };
  const ids = (e: Endpoint) => e.received.map((x) => x.event.id);

  it('starts at the end of the log the first time, then hands on every change once, in order, with the ticket as it was', async () => {
    await changes('before-1');
    const endpoint = new Endpoint();
    const runner = await run(endpoint);
    await changes('after-1');
    await scheduler.advance(0);
    expect(endpoint.received.map((e) => [e.event.type, e.ticket.status, e.ticket.assetId])).toEqual([
      ['raised', 'raised', 'after-1'],
      ['closed', 'closed', 'after-1'],
    ]);
    expect(runner.stats()).toMatchObject({ state: 'ok', backlog: 0, delivered: 2 });
  });

  it('keeps its position while the endpoint is down, marks it dead after a while, and delivers the backlog in order once it is back', async () => {
    const endpoint = new Endpoint();
    const runner = await run(endpoint);
    endpoint.down = true;
    for (const id of ['a', 'b', 'c']) await changes(id);
    await scheduler.advance(0);
    expect(runner.stats()).toMatchObject({ state: 'retrying', backlog: 6, lastError: 'connection refused' });
    await scheduler.advance(2 * MIN);
    expect(runner.stats()).toMatchObject({ state: 'dead', backlog: 6 });
    expect(endpoint.received).toEqual([]);
    endpoint.down = false;
    // The next retry is at most retryMaxMs away.
    await scheduler.advance(8 * SEC);
    const got = ids(endpoint);
    expect(got).toHaveLength(6);
    expect([...got].sort((x, y) => x - y)).toEqual(got);
    expect(runner.stats()).toMatchObject({ state: 'ok', backlog: 0 });
  });

  it('resumes after a restart from its saved position: nothing missed, nothing before it again', async () => {
    const first = new Endpoint();
    const runner = await run(first);
    await changes('a');
    await scheduler.advance(0);
    await runner.stop();
    runners = [];
    // While it is stopped (a crash, a restart), the ticket log goes on.
    await changes('b');
    const second = new Endpoint();
    await run(second);
    await scheduler.advance(0);
    expect(second.received.map((e) => e.ticket.assetId)).toEqual(['b', 'b']);
    expect(ids(first).concat(ids(second))).toEqual([1, 2, 3, 4]);
  });

  it('gives up a message the endpoint refuses outright after maxAttempts, and goes on with the rest', async () => {
    const endpoint = new Endpoint();
    const runner = await run(endpoint);
    endpoint.refuse.add(1);
    await changes('a');
    await scheduler.advance(MIN);
    expect(ids(endpoint)).toEqual([2]);
    expect(runner.stats()).toMatchObject({ givenUp: 1, state: 'ok', backlog: 0 });
  });
});
