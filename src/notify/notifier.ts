import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { Ticket, TicketEvent } from '../domain/types.ts';
import type { TicketPresenter } from '../tickets/ticket-dto.ts';
import type { NotifyConfig } from './config.ts';
import { ticketMessage } from './format.ts';
import { WebhookQueue, type WebhookStats } from './webhook-queue.ts';

/** Publishes on the MQTT side in use: the embedded broker or the external broker's client. */
export type MqttPublish = (topic: string, payload: string) => Promise<void>;

/**
 * Fans ticket changes out to the outbound MQTT topic and the webhooks. Nothing here is awaited by
 * the ticket path: a slow or dead endpoint only grows its own bounded queue.
 */
export class Notifier implements Service {
  readonly name = 'notifier';
  readonly #config: NotifyConfig;
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #publish: MqttPublish | undefined;
  readonly #queues: WebhookQueue[];
  readonly #presenter: TicketPresenter;
  #unsubscribe: (() => void) | undefined;
  mqttFailures = 0;

  constructor(deps: {
    config: NotifyConfig;
    bus: EventBus;
    clock: Clock;
    log: Logger;
    presenter: TicketPresenter;
    publish?: MqttPublish;
  }) {
    this.#presenter = deps.presenter;
    this.#config = deps.config;
    this.#bus = deps.bus;
    this.#log = deps.log;
    this.#publish = deps.publish;
    this.#queues = deps.config.webhooks.map(
      (hook) =>
        new WebhookQueue(hook, {
          clock: deps.clock,
          log: deps.log,
          ...(deps.config.consoleUrl ? { consoleUrl: deps.config.consoleUrl } : {}),
        }),
    );
  }

  async start(): Promise<void> {
    for (const q of this.#queues) q.start();
    this.#unsubscribe = this.#bus.on('ticketChanged', (ticket, event) => this.#dispatch(ticket, event));
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await Promise.all(this.#queues.map((q) => q.stop()));
  }

  webhookStats(): WebhookStats[] {
    return this.#queues.map((q) => ({ ...q.stats }));
  }

  #dispatch(domainTicket: Ticket, domainEvent: TicketEvent): void {
    const ticket = this.#presenter.ticket(domainTicket);
    const event = this.#presenter.event(domainEvent);
    const prefix = this.#config.mqttTopicPrefix;
    if (this.#publish && prefix) {
      this.#publish(`${prefix}/${ticket.site}`, JSON.stringify(ticketMessage(ticket, event))).catch(
        (err: unknown) => {
          this.mqttFailures++;
          this.#log.warn({ err, ticketId: ticket.id }, 'outbound MQTT publish failed');
        },
      );
    }
    // A device ticket that is part of an outage is handled through its parent: no robot message.
    if (ticket.parentId !== null) return;
    for (const q of this.#queues) if (q.wants(ticket, event)) q.enqueue(ticket, event);
  }
}
