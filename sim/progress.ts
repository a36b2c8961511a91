/**
 * The simulator's progress line: on a terminal, one line rewritten in place (other output is
 * printed above it); otherwise, e.g. piped to a file or CI log, a plain line every so often.
 */

export interface ProgressSnapshot {
  speed: number;
  simulatedMs: number;
  messages: number;
  faultsStarted: number;
  activeFaults: number;
  /** Undefined when the simulator cannot see tickets (no API login). */
  tickets?: { seen: number; open: number; breaches: number };
  /** Undefined without `--maintainers`. */
  maintainerActions?: number;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  snapshot(): ProgressSnapshot;
  /** Redraw interval on a terminal; plain lines come every `plainEveryMs`. */
  everyMs?: number;
  plainEveryMs?: number;
}

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  return `${hh}:${mm}:${String(s % 60).padStart(2, '0')}`;
};

export function formatProgress(s: ProgressSnapshot, rate: number, elapsedMs: number): string {
  const parts = [
    `${clock(elapsedMs)} (simulated ${clock(s.simulatedMs)}, ${s.speed}x)`,
    `${s.messages.toLocaleString('en')} msgs ${rate.toFixed(1)} msg/s`,
    `faults ${s.faultsStarted} (${s.activeFaults} active)`,
    s.tickets
      ? `tickets ${s.tickets.seen} seen, ${s.tickets.open} open, ${s.tickets.breaches} SLA breaches`
      : 'tickets: no API login',
  ];
  if (s.maintainerActions !== undefined) parts.push(`maintainers ${s.maintainerActions} actions`);
  return parts.join(' | ');
}

export class Progress {
  readonly #opts: ProgressOptions;
  readonly #tty: boolean;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #last = { at: 0, messages: 0 };
  #lastPlainAt = 0;
  #shown = '';

  constructor(opts: ProgressOptions) {
    this.#opts = opts;
    this.#tty = opts.stream.isTTY === true;
  }

  start(): void {
    this.#startedAt = Date.now();
    this.#last = { at: this.#startedAt, messages: 0 };
    this.#lastPlainAt = this.#startedAt;
    this.#timer = setInterval(() => this.#update(), this.#opts.everyMs ?? 1000);
  }

  /** Stops and leaves a final line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
    this.#opts.stream.write(`${this.#render(true)}\n`);
  }

  /** Prints a line of other output without garbling the progress line. */
  print(line: string): void {
    this.#clear();
    this.#opts.stream.write(`${line}\n`);
    if (this.#shown) this.#draw(this.#shown);
  }

  /** `overall`: the average rate since the start instead of the rate since the last line. */
  #render(overall = false): string {
    const now = Date.now();
    const s = this.#opts.snapshot();
    const since = overall ? { at: this.#startedAt, messages: 0 } : this.#last;
    const seconds = Math.max(0.001, (now - since.at) / 1000);
    const rate = (s.messages - since.messages) / seconds;
    this.#last = { at: now, messages: s.messages };
    return formatProgress(s, rate, now - this.#startedAt);
  }

  #update(): void {
    if (this.#tty) {
      this.#draw(this.#render());
      return;
    }
    if (Date.now() - this.#lastPlainAt < (this.#opts.plainEveryMs ?? 10_000)) return;
    this.#lastPlainAt = Date.now();
    this.#opts.stream.write(`${this.#render()}\n`);
  }

  #draw(text: string): void {
    if (!this.#tty) return;
    const width = this.#opts.stream.columns ?? 160;
    this.#shown = text;
    this.#opts.stream.write(`\r\x1b[2K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`);
  }

  #clear(): void {
    if (this.#tty && this.#shown) this.#opts.stream.write('\r\x1b[2K');
  }
}
