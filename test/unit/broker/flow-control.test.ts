import { describe, expect, it } from 'vitest';
import type { FlowSettings } from '../../../broker/config.ts';
import { FlowControl } from '../../../broker/flow-control.ts';
import type { Scheduler } from '../../../src/core/scheduler.ts';

/**
 * Time that moves only when the test says, and whose tasks can run late: `run(at)` fires every
 * task due by `at` with the clock at `at`, as an event loop that was busy until then would.
 */
class LateTime implements Scheduler {
  t = 0;
  tasks: { time: number; task: () => void; cancelled: boolean }[] = [];
  now(): number {
    return this.t;
  }
  at(time: number, task: () => void) {
    const entry = { time, task, cancelled: false };
    this.tasks.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }
  run(at: number): void {
    this.t = at;
    for (;;) {
      const due = this.tasks.filter((e) => !e.cancelled && e.time <= at).sort((a, b) => a.time - b.time)[0];
      if (!due) return;
      due.cancelled = true;
      due.task();
    }
  }
}

const SETTINGS: FlowSettings = {
  gatewayMessagesPerSecond: 100,
  gatewayBurst: 100,
  maxInFlight: 10,
  maxLoopDelayMs: 100,
  holdForTelemetry: true,
};

function setUp(settings: Partial<FlowSettings> = {}, telemetryBehind = () => false) {
  const time = new LateTime();
  const holds: string[] = [];
  const flow = new FlowControl({
    settings: { ...SETTINGS, ...settings },
    time,
    telemetryBehind,
    onHold: (reason) => holds.push(reason),
  });
  let resumed = 0;
  const resume = () => {
    resumed++;
  };
  return { time, flow, holds, resume, resumed: () => resumed };
}

describe('flow control (backpressure on device connections)', () => {
  it('holds a gateway over its rate ceiling until its bucket has paid the debt, then lets it read', () => {
    const { time, flow, resume, resumed } = setUp();
    flow.passed('xincheng-gw', 60, resume);
    expect(resumed()).toBe(1);
    // 120 of a burst of 100 at 100/s: 20 in debt, 200 ms to pay.
    flow.passed('xincheng-gw', 60, resume);
    expect(resumed()).toBe(1);
    time.run(199);
    expect(resumed()).toBe(1);
    time.run(200);
    expect(resumed()).toBe(2);
    expect(flow.stats().holds.gateway_rate).toBe(1);
    expect(flow.stats().heldMs.gateway_rate).toBe(200);
  });

  it('keeps one bucket per gateway login: another site is not held for it', () => {
    const { flow, resume, resumed } = setUp();
    flow.passed('xincheng-gw', 150, resume);
    flow.passed('north-gw', 50, resume);
    expect(resumed()).toBe(1);
  });

  it('does not rate-limit a connection before its login, nor chunks without publishes', () => {
    const { flow, resume, resumed } = setUp();
    flow.passed(undefined, 10_000, resume);
    flow.passed('xincheng-gw', 0, resume);
    expect(resumed()).toBe(2);
  });

  it('holds every connection while too many messages are being recorded, and resumes at half', () => {
    const { flow, holds, resume, resumed } = setUp();
    for (let i = 0; i < 11; i++) flow.started();
    flow.passed(undefined, 1, resume);
    flow.passed('north-gw', 1, resume);
    expect(resumed()).toBe(0);
    expect(flow.stats().holding).toBe('in_flight');
    expect(holds).toEqual(['in_flight']);
    for (let i = 0; i < 5; i++) flow.finished();
    expect(resumed()).toBe(0);
    flow.finished();
    expect(resumed()).toBe(2);
    expect(flow.stats()).toMatchObject({ inFlight: 5, holding: null });
  });

  it('holds while telemetry is behind, and resumes at the next check once it has caught up', () => {
    let behind = true;
    const { time, flow, resume, resumed } = setUp({}, () => behind);
    flow.passed('east-gw', 5, resume);
    expect(resumed()).toBe(0);
    time.run(10);
    expect(resumed()).toBe(0);
    behind = false;
    time.run(20);
    expect(resumed()).toBe(1);
    expect(flow.stats().heldMs.telemetry).toBe(20);
  });

  it('sheds telemetry instead of holding when holdForTelemetry is off', () => {
    const { flow, resume, resumed } = setUp({ holdForTelemetry: false }, () => true);
    flow.passed('east-gw', 5, resume);
    expect(resumed()).toBe(1);
  });

  it('holds while the event loop runs late, and lets go at the first tick on time', () => {
    const { time, flow, resume, resumed } = setUp();
    flow.start();
    // Ticks every 25 ms; the first one runs 150 ms late (a loop busy with a burst).
    time.run(175);
    flow.passed('east-gw', 5, resume);
    expect(resumed()).toBe(0);
    expect(flow.stats().holding).toBe('event_loop');
    time.run(200);
    expect(resumed()).toBe(1);
    flow.stop();
  });

  it('releases everything held when it stops', () => {
    const { flow, resume, resumed } = setUp();
    for (let i = 0; i < 20; i++) flow.started();
    flow.passed(undefined, 1, resume);
    flow.stop();
    expect(resumed()).toBe(1);
  });
});
