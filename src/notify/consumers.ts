import type { Scheduler } from '../core/scheduler.ts';
import type { LogConsumer } from '../events/consumer.ts';
import type { LogEntry } from '../events/event-log.ts';
import type { TicketPresenter } from '../tickets/ticket-dto.ts';
import type { WebhookConfig } from './config.ts';
import { HINT_EVENTS, type HintLookup, ticketMessage } from './format.ts';
import { DeliveryError, prepareRequest, send } from './webhook-sender.ts';

/** Publishes on the MQTT side in use: the embedded broker or the external broker's client. */
export type MqttPublish = (topic: string, payload: string) => Promise<void>;

/**
 * Every ticket change on `<prefix>/<site>` at QoS 1, the ticket DTO in its versioned envelope.
 * Handled once the broker has taken it (PUBACK from an external broker; the embedded broker's
 * own queueing otherwise); until then the log position stays, so a broker that is down only
 * delays the messages.
 */
export function mqttOutConsumer(deps: {
  prefix: string;
  presenter: TicketPresenter;
  publish: MqttPublish;
}): LogConsumer {
  return {
    id: 'mqtt-out',
    async handle({ ticket, event }: LogEntry) {
      const message = ticketMessage(deps.presenter.ticket(ticket), deps.presenter.event(event));
      await deps.publish(`${deps.prefix}/${ticket.site}`, JSON.stringify(message));
      return true;
    },
  };
}

/**
 * One webhook or group robot. Only the event types and sites it asked for are sent; a device
 * ticket that is part of an outage is handled through its parent and not announced by itself.
 * An endpoint that is down or rate-limits is retried for ever (the position waits); one that
 * refuses a message outright `maxAttempts` times has that message given up, not the rest.
 */
export function webhookConsumer(deps: {
  hook: WebhookConfig;
  presenter: TicketPresenter;
  scheduler: Scheduler;
  consoleUrl?: string;
  /** The knowledge base's hint for robot messages (not the generic JSON, which has the ticket). */
  hints?: HintLookup;
}): LogConsumer {
  const { hook } = deps;
  return {
    id: `webhook:${hook.id}`,
    maxAttempts: hook.maxAttempts,
    retryable: (err) => !(err instanceof DeliveryError) || err.retryable,
    async handle({ ticket, event }: LogEntry) {
      if (!hook.events.includes(event.type)) return false;
      if (hook.sites && !hook.sites.includes(ticket.site)) return false;
      if (ticket.parentId !== undefined) return false;
      const hint =
        hook.kind !== 'generic' && HINT_EVENTS.has(event.type)
          ? await deps.hints?.(ticket.category, ticket.fault)
          : undefined;
      const req = prepareRequest(
        hook,
        deps.presenter.ticket(ticket),
        deps.presenter.event(event),
        deps.scheduler.now(),
        deps.consoleUrl,
        hint,
      );
      await send(hook, req);
      return true;
    },
  };
}
