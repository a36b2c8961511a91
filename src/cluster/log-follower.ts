import pg from 'pg';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { EventLog } from '../events/event-log.ts';
import { TICKET_LOG_CHANNEL } from '../store/postgres/ticket-log.ts';

/** Changes outside tickets that instances keep in memory (rules, shifts, planned work...). */
export const CHANGES_CHANNEL = 'xiaoer_changes';
/** The topic `onChange` gets after notifications may have been missed: read everything again. */
export const ALL_CHANGES = '*';

const PAGE = 500;

export interface LogFollowerDeps {
  url: string;
  instanceId: string;
  eventLog: EventLog;
  /** A change announced on CHANGES_CHANNEL by any instance (this one's included): its topic. */
  onChange?: (topic: string) => void;
  /** A read of the log even without a notification (one missed while reconnecting). */
  pollMs: number;
  log: Logger;
}

/**
 * Brings every instance's ticket changes to this one: LISTEN on the log's channel, and at each
 * notification read the log after the last entry announced and announce what is new, in id
 * order, through `EventLog.announce`: the live feed, the SLA scheduler and the durable consumers
 * then see every instance's changes, each once. The store appends log entries under one
 * transaction-level lock, so ids commit in order and reading "after the last id" skips none.
 * Notifications are only a nudge: a timer reads too, and a lost connection is opened again and
 * reads from where it was.
 */
export class LogFollower implements Service {
  readonly name = 'log-follower';
  readonly #deps: LogFollowerDeps;
  #client: pg.Client | undefined;
  #last = 0;
  #reading: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #connecting: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: LogFollowerDeps) {
    this.#deps = deps;
  }

  /** The last entry announced. */
  get position(): number {
    return this.#last;
  }

  /** From the log's head at start: what came before is the store's, read by whoever needs it. */
  async start(): Promise<void> {
    // LISTEN before reading the head: an entry after it is announced, by a notification or the
    // read just below; nothing is read before the head is known.
    await this.#listen();
    this.#last = await this.#deps.eventLog.head();
    this.#running = true;
    this.nudge();
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#connecting;
    await this.#reading;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  /** Reads now (or again right after the read under way). */
  nudge(): void {
    if (!this.#running) return;
    if (this.#reading !== undefined) {
      this.#again = true;
      return;
    }
    this.#reading = this.#read().finally(() => {
      this.#reading = undefined;
      if (this.#again) {
        this.#again = false;
        this.nudge();
      }
    });
  }

  #tick(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      if (!this.#client && !this.#connecting) {
        // One attempt at a time. Changes told while not listening were missed: every topic is
        // read again once listening.
        this.#connecting = this.#listen()
          .then(() => this.#deps.onChange?.(ALL_CHANGES))
          .catch((err: unknown) => this.#deps.log.warn({ err }, 'cannot LISTEN yet; trying again'))
          .finally(() => {
            this.#connecting = undefined;
          });
      }
      this.nudge();
      this.#tick();
    }, this.#deps.pollMs);
  }

  /** Tells every instance (this one too, through its own LISTEN) that `topic` changed. */
  async announceChange(topic: string): Promise<void> {
    const client = this.#client;
    if (!client) throw new Error('not connected to PostgreSQL');
    await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, topic]);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#deps.url,
      application_name: `xiaoer-log:${this.#deps.instanceId}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      connectionTimeoutMillis: 10_000,
    });
    client.on('notification', (msg) => {
      if (msg.channel === TICKET_LOG_CHANNEL) this.nudge();
      else if (msg.channel === CHANGES_CHANNEL && msg.payload) this.#deps.onChange?.(msg.payload);
    });
    client.on('error', (err) => {
      this.#deps.log.warn(
        { err: err.message },
        'log notifications lost; reading on a timer until reconnected',
      );
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => {});
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${TICKET_LOG_CHANNEL}`);
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    if (this.#stopped) {
      // Stopped meanwhile.
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        const page = await this.#deps.eventLog.read(this.#last, PAGE);
        for (const entry of page) {
          if (entry.event.id <= this.#last) continue;
          this.#last = entry.event.id;
          this.#deps.eventLog.announce(entry);
        }
        if (page.length < PAGE || !this.#running) return;
      }
    } catch (err) {
      this.#deps.log.error({ err }, 'could not read the ticket log; trying again');
    }
  }
}
