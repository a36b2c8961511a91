import type { Logger } from '../core/logger.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import { ConsumerRunner, type ConsumerStats } from '../events/consumer.ts';
import type { EventLog } from '../events/event-log.ts';
import type { Store } from '../store/store.ts';
import type { TicketPresenter } from '../tickets/ticket-dto.ts';
import type { NotifyConfig } from './config.ts';
import { type MqttPublish, mqttOutConsumer, webhookConsumer } from './consumers.ts';
import type { HintLookup } from './format.ts';

export type { MqttPublish } from './consumers.ts';

interface NotifierDeps {
  config: NotifyConfig;
  eventLog: EventLog;
  store: Store;
  scheduler: Scheduler;
  log: Logger;
  presenter: TicketPresenter;
  /** Where people reach the console (`http.publicUrl`), unless `notify.consoleUrl` says otherwise. */
  publicUrl?: string;
  hints?: HintLookup;
}

/**
 * The outbound channels, each a durable consumer of the ticket event log: every webhook and
 * robot, and (started by the App once MQTT is up) the outbound MQTT topic. Ticket writes never
 * wait for them; each keeps its own position, so one dead endpoint holds back only itself.
 */
export class Notifier implements Service {
  readonly name = 'notifier';
  readonly #deps: NotifierDeps;
  readonly #webhooks: ConsumerRunner[];
  #mqttOut: ConsumerRunner | undefined;

  constructor(deps: NotifierDeps) {
    this.#deps = deps;
    const { config } = deps;
    const consoleUrl = config.consoleUrl ?? deps.publicUrl;
    this.#webhooks = config.webhooks.map((hook) =>
      this.#runner(
        webhookConsumer({
          hook,
          presenter: deps.presenter,
          scheduler: deps.scheduler,
          ...(consoleUrl ? { consoleUrl } : {}),
          ...(deps.hints ? { hints: deps.hints } : {}),
        }),
        {
          retryBaseMs: hook.retryBaseMs,
          retryMaxMs: hook.retryMaxMs,
          deadAfterMs: hook.deadAfterMinutes * 60_000,
        },
      ),
    );
  }

  async start(): Promise<void> {
    for (const w of this.#webhooks) await w.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#webhooks.map((w) => w.stop()));
  }

  /** The outbound MQTT topic as a service of its own: started after MQTT, stopped before it. */
  mqttOut(publish: MqttPublish): ConsumerRunner | undefined {
    const prefix = this.#deps.config.mqttTopicPrefix;
    if (!prefix) return undefined;
    this.#mqttOut = this.#runner(mqttOutConsumer({ prefix, presenter: this.#deps.presenter, publish }), {});
    return this.#mqttOut;
  }

  stats(): { webhooks: ConsumerStats[]; mqttOut: ConsumerStats | null } {
    return { webhooks: this.#webhooks.map((w) => w.stats()), mqttOut: this.#mqttOut?.stats() ?? null };
  }

  #runner(
    consumer: ConstructorParameters<typeof ConsumerRunner>[0]['consumer'],
    timing: object,
  ): ConsumerRunner {
    const { eventLog, store, scheduler, log } = this.#deps;
    return new ConsumerRunner({ consumer, eventLog, store, scheduler, log, timing });
  }
}
