import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import type { Directory } from '../src/config/directory.ts';
import { XiaoerError } from '../src/core/errors.ts';
import { listen } from '../src/core/listen.ts';
import type { Logger } from '../src/core/logger.ts';
import type { Service } from '../src/core/service.ts';
import type { IncomingMessage } from '../src/ingest/ingest.ts';
import { type Principal, SiteAcl, type SubscriberLogin } from './acl.ts';
import type { BrokerLimits } from './config.ts';
import { guardedConnection } from './packet-guard.ts';

export interface EmbeddedBrokerDeps {
  directory: Directory;
  /** Integrations allowed to subscribe to xiaoer's outbound topics. */
  subscribers?: readonly SubscriberLogin[];
  host: string;
  port: number;
  /** Largest MQTT packet accepted on the wire; larger ones close the connection before buffering. */
  maxPacketBytes: number;
  /** Connection, login and identifier limits (the `mqtt` config section). */
  limits: BrokerLimits;
  log: Logger;
  /**
   * Records a message. Called from `authorizePublish`, which aedes runs *before* it sends the
   * QoS 1 PUBACK (its `published` hook runs after): so the PUBACK means "recorded". A rejection
   * withholds the PUBACK and closes the connection, and the gateway sends the message again.
   */
  onPublish(msg: IncomingMessage): Promise<void>;
  /** A site gateway's connection came or went (not called while the broker itself stops). */
  onGateway?(site: string, username: string, change: 'connected' | 'disconnected'): void;
}

// Our deepest topic (a Sparkplug device under a site prefix) has 6 levels; aedes' ceiling is 100.
const MAX_TOPIC_LEVELS = 16;

/** The embedded aedes MQTT broker with gateway logins and the per-site topic ACL. */
export class EmbeddedBroker implements Service {
  readonly name = 'mqtt-broker';
  readonly #deps: EmbeddedBrokerDeps;
  readonly #acl: SiteAcl;
  readonly #principals = new WeakMap<Client, Principal>();
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #stopping = false;
  port = 0;

  constructor(deps: EmbeddedBrokerDeps) {
    this.#deps = deps;
    this.#acl = new SiteAcl(deps.directory, deps.subscribers);
  }

  async start(): Promise<void> {
    const { log } = this.#deps;
    const options: AedesOptions = {
      maxTopicLevels: MAX_TOPIC_LEVELS,
      authenticate: (client, username, password, done) => {
        const principal = this.#acl.authenticate(username, password);
        if (!principal) {
          log.warn({ clientId: client.id, username }, 'MQTT login refused');
          const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
          return done(err, false);
        }
        // Client ids are global to the broker: without a per-login namespace, one site's gateway
        // could take over another's persistent session (and trigger its will).
        if (!this.#acl.mayUseClientId(principal, client.id)) {
          log.warn({ clientId: client.id, username }, "MQTT client id outside the login's namespace refused");
          const err = Object.assign(new Error('client id not allowed'), { returnCode: 2 as const });
          return done(err, false);
        }
        this.#principals.set(client, principal);
        done(null, true);
      },
      authorizePublish: (client, packet, done) => {
        // Messages the broker itself publishes (client null) are not device input.
        if (!client) return done(null);
        const who = this.#principals.get(client);
        if (!who || !this.#acl.mayPublish(who, packet.topic)) {
          log.warn({ clientId: client.id, who, topic: packet.topic }, 'publish outside own site refused');
          return done(new Error('publish not authorised for this topic'));
        }
        // While stopping, aedes closes clients and publishes their wills: those are not device
        // news. Refusing also withholds any PUBACK, so a gateway sends its message again later.
        if (this.#stopping) return done(new Error('broker shutting down'));
        // xiaoer is the only consumer of device topics; retained copies would only grow memory.
        packet.retain = false;
        this.#deps
          .onPublish({ topic: packet.topic, payload: packet.payload as Buffer, qos: packet.qos })
          .then(
            () => done(null),
            (err: unknown) => {
              log.error({ err, topic: packet.topic }, 'message not recorded; acknowledgement withheld');
              done(err instanceof Error ? err : new Error(String(err)));
            },
          );
      },
      authorizeSubscribe: (client, sub, done) => {
        const who = this.#principals.get(client);
        if (!who || !this.#acl.maySubscribe(who, sub.topic)) {
          log.warn({ clientId: client.id, who, filter: sub.topic }, 'subscription outside own site refused');
          return done(null, null);
        }
        done(null, sub);
      },
    };
    const aedes = await Aedes.createBroker(options);
    aedes.on('clientError', (client, err) =>
      log.debug({ clientId: client.id, err: err.message }, 'client error'),
    );
    aedes.on('client', (client) => {
      log.debug({ clientId: client.id }, 'client connected');
      const who = this.#principals.get(client);
      if (who?.kind === 'gateway') this.#deps.onGateway?.(who.site, who.username, 'connected');
    });
    aedes.on('clientDisconnect', (client) => {
      const who = this.#principals.get(client);
      if (who?.kind === 'gateway' && !this.#stopping)
        this.#deps.onGateway?.(who.site, who.username, 'disconnected');
    });
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      aedes.handle(guardedConnection(socket, this.#deps.maxPacketBytes));
    });
    this.#aedes = aedes;
    this.#server = server;
    try {
      this.port = await listen(server, this.#deps.host, this.#deps.port, 'MQTT', 'MQTT_PORT (or mqtt.port)');
    } catch (err) {
      await new Promise<void>((resolve) => aedes.close(resolve));
      throw err;
    }
    log.info({ host: this.#deps.host, port: this.port }, 'embedded MQTT broker listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    if (!server || !aedes) return;
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(resolve));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    this.#server = undefined;
    this.#aedes = undefined;
  }

  /** Publishes from xiaoer itself (outbound notifications come through here later). */
  publish(topic: string, payload: string, qos: 0 | 1 = 0): Promise<void> {
    const aedes = this.#aedes;
    if (!aedes)
      return Promise.reject(new XiaoerError('broker_stopped', 'the embedded broker is not running'));
    return new Promise((resolve, reject) => {
      aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false },
        (err?: Error) => (err ? reject(err) : resolve()),
      );
    });
  }
}
