import { performance } from 'node:perf_hooks';
import type { Cancel, Scheduler } from '../src/core/scheduler.ts';
import type { FlowSettings } from './config.ts';

/** Why reading from device connections is held back. */
export type HoldReason = 'gateway_rate' | 'in_flight' | 'telemetry' | 'event_loop';

export interface FlowStats {
  /** Messages being recorded now (received, not yet acknowledged or given up). */
  inFlight: number;
  /** Whether reading is held for every connection right now, and why. */
  holding: HoldReason | null;
  /** Times a connection's reading was held, per reason, since start. */
  holds: Record<HoldReason, number>;
  /** Time connections spent held, summed over connections, per reason (ms). */
  heldMs: Record<HoldReason, number>;
}

/**
 * Real, monotonic time: backpressure is about the event loop and message rates as they are, never
 * the App's scheduler (a test's manual clock would stall reading until the test moves it).
 */
export const monotonicTime: Scheduler = {
  now: () => performance.now(),
  at(time, task) {
    const timer = setTimeout(task, Math.max(0, time - performance.now()));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface FlowDeps {
  settings: FlowSettings;
  /** `monotonicTime` in production; unit tests drive a manual one. */
  time: Scheduler;
  /** The telemetry writer is behind while InfluxDB answers: ingest should wait for it. */
  telemetryBehind?(): boolean;
  /** Called when a hold for every connection starts (for a rate-limited log line). */
  onHold?(reason: HoldReason, detail: Record<string, number>): void;
}

/** A token bucket per gateway login: `rate` messages a second, `burst` at once. */
class Bucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes `n` tokens (going into debt); returns how long until the debt is paid (ms), or 0. */
  take(n: number, now: number): number {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) * this.rate) / 1000);
    this.#at = now;
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.rate);
  }
}

type Resume = () => void;

const RECHECK_MS = 10;

/**
 * Backpressure for the embedded broker: instead of reading every byte a gateway sends and
 * buffering the work, reading from a connection stops (its chunk's callback is held, so the pipe
 * from the socket pauses and TCP's window closes on the sender) while
 * - the gateway login is over its rate ceiling (a token bucket per login, all its connections);
 * - more messages are being recorded at once than `maxInFlight`;
 * - the telemetry writer is behind while InfluxDB is answering (so points are not dropped);
 * - the event loop is late by more than `maxLoopDelayMs` (so timers and the API keep their turn).
 * A QoS 0 flood then costs the sender's TCP window, not xiaoer's memory. When InfluxDB is down,
 * telemetry goes to its spool and does not hold ingest: alarms must not wait for a database.
 */
export class FlowControl {
  readonly #deps: FlowDeps;
  readonly #buckets = new Map<string, Bucket>();
  readonly #waiting: { resume: Resume; since: number; reason: HoldReason }[] = [];
  readonly #holds = zeroes();
  readonly #heldMs = zeroes();
  #inFlight = 0;
  #loopLate = false;
  #holding: HoldReason | null = null;
  #ticker: Cancel | undefined;
  #recheck: Cancel | undefined;

  constructor(deps: FlowDeps) {
    this.#deps = deps;
  }

  /** Starts measuring how late the event loop runs: a tick every quarter of `maxLoopDelayMs`. */
  start(): void {
    const { time, settings } = this.#deps;
    const interval = Math.max(5, Math.min(50, Math.floor(settings.maxLoopDelayMs / 4)));
    const tick = (due: number) => {
      // One late tick holds reading; the next tick on time lets it go again.
      this.#loopLate = time.now() - due > settings.maxLoopDelayMs;
      if (!this.#loopLate) this.#release();
      this.#ticker = arm();
    };
    const arm = () => {
      const due = time.now() + interval;
      return time.at(due, () => tick(due));
    };
    this.#ticker = arm();
  }

  stop(): void {
    this.#ticker?.();
    this.#recheck?.();
    // Nothing is held after stop: the connections are closing anyway.
    for (const w of this.#waiting.splice(0)) w.resume();
  }

  stats(): FlowStats {
    return {
      inFlight: this.#inFlight,
      holding: this.#globalReason(),
      holds: { ...this.#holds },
      heldMs: { ...this.#heldMs },
    };
  }

  /** A message went to be recorded; `finished()` when it is recorded or given up. */
  started(): void {
    this.#inFlight++;
  }

  finished(): void {
    this.#inFlight--;
    if (this.#waiting.length > 0 && this.#inFlight <= this.#deps.settings.maxInFlight / 2) this.#release();
  }

  /**
   * A chunk of a connection's bytes, with `publishes` PUBLISH packets in it, has been passed on;
   * `resume` lets the next chunk be read: at once, or once the hold is over. `gateway` is the
   * login's rate bucket key (undefined before login, or for a login that is not a gateway).
   */
  passed(gateway: string | undefined, publishes: number, resume: Resume): void {
    const { time } = this.#deps;
    const now = time.now();
    if (gateway !== undefined && publishes > 0) {
      const wait = this.#bucket(gateway, now).take(publishes, now);
      if (wait > 0) {
        this.#holds.gateway_rate++;
        time.at(now + wait, () => {
          this.#heldMs.gateway_rate += time.now() - now;
          this.passed(undefined, 0, resume);
        });
        return;
      }
    }
    const reason = this.#globalReason();
    if (reason === null) {
      resume();
      return;
    }
    this.#holds[reason]++;
    if (this.#holding !== reason) {
      this.#holding = reason;
      this.#deps.onHold?.(reason, { inFlight: this.#inFlight, waiting: this.#waiting.length + 1 });
    }
    this.#waiting.push({ resume, since: now, reason });
    this.#scheduleRecheck();
  }

  #bucket(gateway: string, now: number): Bucket {
    let bucket = this.#buckets.get(gateway);
    if (!bucket) {
      const { gatewayMessagesPerSecond, gatewayBurst } = this.#deps.settings;
      bucket = new Bucket(gatewayMessagesPerSecond, gatewayBurst, now);
      this.#buckets.set(gateway, bucket);
    }
    return bucket;
  }

  #globalReason(): HoldReason | null {
    if (this.#inFlight > this.#deps.settings.maxInFlight) return 'in_flight';
    if (this.#loopLate) return 'event_loop';
    if (this.#deps.settings.holdForTelemetry && this.#deps.telemetryBehind?.()) return 'telemetry';
    return null;
  }

  /** The in-flight count and the telemetry are polled while someone waits; the loop by its ticker. */
  #scheduleRecheck(): void {
    if (this.#recheck) return;
    const { time } = this.#deps;
    this.#recheck = time.at(time.now() + RECHECK_MS, () => {
      this.#recheck = undefined;
      this.#release();
      if (this.#waiting.length > 0) this.#scheduleRecheck();
    });
  }

  #release(): void {
    if (this.#waiting.length === 0 || this.#globalReason() !== null) return;
    this.#holding = null;
    const now = this.#deps.time.now();
    for (const w of this.#waiting.splice(0)) {
      this.#heldMs[w.reason] += now - w.since;
      w.resume();
    }
  }
}

function zeroes(): Record<HoldReason, number> {
  return { gateway_rate: 0, in_flight: 0, telemetry: 0, event_loop: 0 };
}
