/**
 * A long-lived part of xiaoer (broker, ingest, SLA scheduler, API...). The constructor only stores
 * dependencies; `start()` acquires sockets and timers; `stop()` releases every one of them.
 * `App` owns the start order and stops in reverse.
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
