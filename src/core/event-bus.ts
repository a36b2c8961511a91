import { EventEmitter } from 'node:events';
import type {
  AlarmTransition,
  GatewayPresence,
  Instant,
  MaintenanceWindow,
  Reading,
  Ticket,
  TicketEvent,
} from '../domain/types.ts';
import type { RuleSet } from '../rules/rule-set.ts';

/** Everything one part of xiaoer tells the others, in one typed place (cf. Zigbee2MQTT's eventBus). */
export interface BusEvents {
  readings: [readings: Reading[]];
  alarm: [transition: AlarmTransition];
  ticketChanged: [ticket: Ticket, event: TicketEvent];
  deadLetter: [record: { topic: string; reason: string; site?: string }];
  /** A planned-work window ended or was cancelled: alarms held back during it may become tickets. */
  maintenanceOver: [window: MaintenanceWindow];
  /** An admin confirmed a discovered asset (its kind and rules may have changed). */
  assetConfirmed: [site: string, assetId: string];
  /** A site's gateway connected for the first time ever. */
  gatewayCommissioned: [site: string];
  /**
   * A message announced a gateway up or down (a Zigbee2MQTT bridge state, a Tasmota last will, a
   * Sparkplug edge node's birth or death), received at `at`; `gateway` names who announced
   * (GatewayPresence), not necessarily the site's gateway.
   */
  gatewayPresence: [presence: GatewayPresence & { at: Instant }];
  /** An admin's change of the alert rules took effect: judge by this set from now on. */
  rulesChanged: [ruleSet: RuleSet];
}

export class EventBus {
  readonly #emitter = new EventEmitter({ captureRejections: false });
  readonly #onListenerError: (event: string, err: unknown) => void;

  /**
   * Listeners run after the change they hear about is committed; one that throws must not make
   * that change look failed to its caller, so errors are reported here instead of propagating.
   */
  constructor(onListenerError: (event: string, err: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
    // Listeners are few and known (notify, SSE clients later); warn only when something leaks badly.
    this.#emitter.setMaxListeners(1000);
  }

  emit<K extends keyof BusEvents>(event: K, ...args: BusEvents[K]): void {
    this.#emitter.emit(event, ...args);
  }

  on<K extends keyof BusEvents>(event: K, listener: (...args: BusEvents[K]) => void): () => void {
    const guarded = (...args: unknown[]) => {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (err) {
        this.#onListenerError(event, err);
      }
    };
    this.#emitter.on(event, guarded);
    return () => this.#emitter.off(event, guarded);
  }
}
