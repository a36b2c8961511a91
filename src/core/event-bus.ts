import { EventEmitter } from 'node:events';
import type { AlarmTransition, Reading, Ticket, TicketEvent } from '../domain/types.ts';

/** Everything one part of xiaoer tells the others, in one typed place (cf. Zigbee2MQTT's eventBus). */
export interface BusEvents {
  readings: [readings: Reading[]];
  alarm: [transition: AlarmTransition];
  ticketChanged: [ticket: Ticket, event: TicketEvent];
  deadLetter: [record: { topic: string; reason: string; site?: string }];
}

export class EventBus {
  readonly #emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    // Listeners are few and known (notify, SSE clients later); warn only when something leaks badly.
    this.#emitter.setMaxListeners(1000);
  }

  emit<K extends keyof BusEvents>(event: K, ...args: BusEvents[K]): void {
    this.#emitter.emit(event, ...args);
  }

  on<K extends keyof BusEvents>(event: K, listener: (...args: BusEvents[K]) => void): () => void {
    this.#emitter.on(event, listener as (...a: unknown[]) => void);
    return () => this.#emitter.off(event, listener as (...a: unknown[]) => void);
  }
}
