import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  Aedes,
  type AedesOptions,
  type AuthenticateError,
  type Client,
  type ConnectPacket,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import type { Directory } from '../src/config/directory.ts';
import { type Clock, systemClock } from '../src/core/clock.ts';
import { XiaoerError } from '../src/core/errors.ts';
import { listen } from '../src/core/listen.ts';
import type { Logger } from '../src/core/logger.ts';
import type { Service } from '../src/core/service.ts';
import type { IncomingMessage } from '../src/ingest/ingest.ts';
import { type Principal, SiteAcl, type SubscriberLogin } from './acl.ts';
import { clip, LogRateLimit } from './bounded.ts';
import type { BrokerLimits } from './config.ts';
import { addressKey, ConnectionCaps } from './connection-caps.ts';
import { FlowControl, type FlowStats, monotonicTime } from './flow-control.ts';
import { LoginThrottle } from './login-throttle.ts';
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
  /** Time for the login throttle and the refusal log's rate limit. */
  clock?: Clock;
  /**
   * Records a message. Called from `authorizePublish`, which aedes runs *before* it sends the
   * QoS 1 PUBACK (its `published` hook runs after): so the PUBACK means "recorded". A rejection
   * withholds the PUBACK and closes the connection, and the gateway sends the message again.
   */
  onPublish(msg: IncomingMessage): Promise<void>;
  /** A site gateway's connection came or went (not called while the broker itself stops). */
  onGateway?(site: string, username: string, change: 'connected' | 'disconnected'): void;
  /** The telemetry writer is behind while InfluxDB answers: reading waits for it (backpressure). */
  telemetryBehind?(): boolean;
}

/** A logged-in connection: who it is, and the client id the device itself sent. */
interface Session {
  principal: Principal;
  login: string;
  deviceId: string;
  address: string;
}

interface LoginAttempt {
  address: string;
  username: string | undefined;
  deviceId: string;
}

type AuthDone = (error: AuthenticateError | null, success: boolean | null) => void;

/** A CONNACK refusal [MQTT-3.2.2.3]: 2 identifier rejected, 3 server unavailable, 4 bad login. */
interface Refusal {
  returnCode: AuthenticateError['returnCode'];
  reason: string;
  retryAfterMs?: number;
}

/**
 * Sessions are namespaced per login inside the broker: aedes keys sessions, wills and the takeover
 * of a connection with the same id [MQTT-3.1.4-2] by client id alone, and devices ship with ids
 * of their own (Tasmota `DVES_…`, a Shelly's device id, MQTT.js' `mqttjs_…`, `mosq-…`). So a
 * logged-in client's id becomes `<login>` U+0000 `<its own id>`: the same id under two logins is
 * two sessions, the same login and id is the normal takeover. U+0000 may not appear in any MQTT
 * string [MQTT-1.5.3-2] and is refused in the CONNECT, so no login contains it and the split is
 * unambiguous whatever the characters of usernames and ids.
 */
const SESSION_SEPARATOR = '\u0000';

/** The embedded aedes MQTT broker with gateway logins and the per-site topic ACL. */
export class EmbeddedBroker implements Service {
  readonly name = 'mqtt-broker';
  readonly #deps: EmbeddedBrokerDeps;
  readonly #limits: BrokerLimits;
  readonly #acl: SiteAcl;
  readonly #throttle: LoginThrottle;
  readonly #refusalLog: LogRateLimit;
  readonly #caps: ConnectionCaps;
  readonly #flow: FlowControl;
  /** The rate bucket of a connection logged in as a site gateway: its login. */
  readonly #gatewayOf = new WeakMap<Duplex, string>();
  readonly #sessions = new WeakMap<Client, Session>();
  /** The client id as the CONNECT carried it (aedes replaces an empty one before `authenticate`). */
  readonly #sentIds = new WeakMap<Client, string>();
  readonly #addresses = new WeakMap<Duplex, string>();
  /** Gateway connections announced through `onGateway`, so each disconnect matches a connect. */
  readonly #announced = new WeakSet<Client>();
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #stopping = false;
  #refusedConnections = 0;
  #refusedLogins = 0;
  port = 0;

  constructor(deps: EmbeddedBrokerDeps) {
    this.#deps = deps;
    this.#limits = deps.limits;
    this.#acl = new SiteAcl(deps.directory, deps.subscribers);
    const clock = deps.clock ?? systemClock;
    const throttle = deps.limits.loginThrottle;
    this.#throttle = new LoginThrottle(throttle, () => clock.now());
    this.#refusalLog = new LogRateLimit({
      intervalMs: throttle.logIntervalMs,
      maxKeys: throttle.maxTracked,
      now: () => clock.now(),
    });
    this.#caps = new ConnectionCaps(deps.limits);
    this.#flow = new FlowControl({
      settings: deps.limits.flow,
      time: monotonicTime,
      ...(deps.telemetryBehind ? { telemetryBehind: deps.telemetryBehind } : {}),
      onHold: (reason, detail) => {
        const slot = this.#refusalLog.take(`flow${SESSION_SEPARATOR}${reason}`);
        if (slot)
          deps.log.warn(
            { reason, ...detail, ...(slot.suppressed > 0 ? { suppressedSinceLast: slot.suppressed } : {}) },
            'reading from device connections held back (backpressure)',
          );
      },
    });
  }

  /** Backpressure: messages in flight, and how often and how long reading was held, per reason. */
  get flow(): FlowStats {
    return this.#flow.stats();
  }

  /** Connections closed at accept by the caps, and logins refused, since start. */
  get refusals(): { connections: number; logins: number } {
    return { connections: this.#refusedConnections, logins: this.#refusedLogins };
  }

  async start(): Promise<void> {
    const { log } = this.#deps;
    this.#warnDemoPasswords();
    const aedes = await Aedes.createBroker(this.#options());
    aedes.on('clientError', (client, err) =>
      log.debug({ clientId: clip(this.#deviceIdOf(client)), err: err.message }, 'client error'),
    );
    aedes.on('client', (client) => {
      const session = this.#sessions.get(client);
      log.debug(
        { clientId: session?.deviceId, login: session?.login, address: session?.address },
        'client connected',
      );
      if (session?.principal.kind !== 'gateway') return;
      this.#announced.add(client);
      this.#deps.onGateway?.(session.principal.site, session.principal.username, 'connected');
    });
    aedes.on('clientDisconnect', (client) => {
      const who = this.#sessions.get(client)?.principal;
      if (who?.kind === 'gateway' && this.#announced.delete(client) && !this.#stopping)
        this.#deps.onGateway?.(who.site, who.username, 'disconnected');
    });
    const server = createServer((socket) => this.#accept(aedes, socket));
    this.#flow.start();
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
    this.#flow.stop();
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

  #options(): AedesOptions {
    return {
      maxTopicLevels: this.#limits.maxTopicLevels,
      // aedes' default is 30 s: long enough for a few hundred idle sockets to pin real memory.
      connectTimeout: this.#limits.connectTimeoutMs,
      preConnect: (client, packet, done) => this.#preConnect(client, packet, done),
      authenticate: (client, username, password, done) =>
        this.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.#authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.#authorizeSubscribe(client, sub, done),
    };
  }

  #preConnect(client: Client, packet: ConnectPacket, done: (err: Error | null, ok: boolean) => void): void {
    // [MQTT-1.5.3-2]: a string with U+0000 closes the connection. It is also what keeps the
    // session namespace unambiguous (SESSION_SEPARATOR); refused here, before aedes takes the id
    // as the client's (even a refused client's id is used to clean its session state).
    if (packet.clientId.includes('\u0000') || packet.username?.includes('\u0000')) {
      this.#refusedLogins++;
      this.#logRefusal(this.#addressOf(client), 'MQTT login refused', { reason: 'null_character' });
      done(new Error('U+0000 in the client id or username'), false);
      return;
    }
    this.#sentIds.set(client, packet.clientId);
    // Gateways publish; there is nothing for them to receive while away. A session kept for a
    // gateway that subscribed to its own site would queue that site's messages without bound, so
    // a gateway's session always starts clean (as if the broker had lost it, [MQTT-3.2.2-1]).
    // (A zero-byte id asking for a session is still refused as the protocol says [MQTT-3.1.3-8].)
    const gateway = packet.username !== undefined && this.#deps.directory.siteOfGateway(packet.username);
    if (gateway && packet.clientId !== '') packet.clean = true;
    done(null, true);
  }

  #authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    // Messages the broker itself publishes (client null) are not device input.
    if (!client) {
      done(null);
      return;
    }
    if (!this.#mayUse(client, packet.topic, 'publish')) {
      done(new Error('publish not authorised for this topic'));
      return;
    }
    // While stopping, aedes closes clients and publishes their wills: those are not device
    // news. Refusing also withholds any PUBACK, so a gateway sends its message again later.
    if (this.#stopping) {
      done(new Error('broker shutting down'));
      return;
    }
    // xiaoer is the only consumer of device topics; retained copies would only grow memory.
    packet.retain = false;
    this.#flow.started();
    this.#deps.onPublish({ topic: packet.topic, payload: packet.payload as Buffer, qos: packet.qos }).then(
      () => {
        this.#flow.finished();
        done(null);
      },
      (err: unknown) => {
        this.#flow.finished();
        this.#deps.log.error({ err, topic: packet.topic }, 'message not recorded; acknowledgement withheld');
        done(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  #authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (err: Error | null, sub?: Subscription | null) => void,
  ): void {
    done(null, this.#mayUse(client, sub.topic, 'subscription') ? sub : null);
  }

  /** Whether a logged-in client may use this topic (or filter); a refusal is logged, cut. */
  #mayUse(client: Client, topic: string, use: 'publish' | 'subscription'): boolean {
    const session = this.#sessions.get(client);
    // aedes 1.2 may hand over a packet that arrived in the same read as the CONNECT before the
    // login is decided (client.id still null): no session yet, so refused (the connection
    // closes; a QoS 1 message is sent again after the gateway reconnects).
    if (!session) {
      this.#logRefusal(this.#addressOf(client), `${use} refused`, {
        reason: 'before_login',
        [use === 'publish' ? 'topic' : 'filter']: clip(topic),
      });
      return false;
    }
    const problem = this.#topicProblem(topic);
    const who = session?.principal;
    const allowed =
      who !== undefined &&
      !problem &&
      (use === 'publish' ? this.#acl.mayPublish(who, topic) : this.#acl.maySubscribe(who, topic));
    if (allowed) return true;
    this.#logRefusal(session?.address ?? 'unknown', `${use} refused`, {
      ...this.#who(client),
      [use === 'publish' ? 'topic' : 'filter']: clip(topic),
      reason: problem ?? 'outside_own_site',
    });
    return false;
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: AuthDone,
  ): void {
    const deviceId = this.#sentIds.get(client) ?? client.id;
    const attempt: LoginAttempt = { address: this.#addressOf(client), username, deviceId };
    const outcome = this.#login(client, attempt, password);
    if ('returnCode' in outcome) {
      this.#refusedLogins++;
      this.#logRefusal(attempt.address, 'MQTT login refused', {
        reason: outcome.reason,
        login: clip(username),
        clientId: clip(deviceId),
        ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
      });
      const err = Object.assign(new Error(`MQTT login refused: ${outcome.reason}`), outcome);
      done(err, false);
      return;
    }
    const login = username ?? '';
    // An empty id has become `aedes_<uuid>` by now [MQTT-3.1.3-6]: unique under the login too.
    this.#sessions.set(client, { principal: outcome, login, deviceId: client.id, address: attempt.address });
    if (outcome.kind === 'gateway') this.#gatewayOf.set(client.conn as Duplex, outcome.username);
    client.id = `${login}${SESSION_SEPARATOR}${client.id}`;
    done(null, true);
  }

  /** Identifiers are checked first, then the throttle, and only then the password. */
  #login(client: Client, attempt: LoginAttempt, password: Buffer | undefined): Principal | Refusal {
    const { username, deviceId, address } = attempt;
    if (username !== undefined && Buffer.byteLength(username) > this.#limits.maxUsernameBytes)
      return { returnCode: 4, reason: 'username_too_long' };
    if (Buffer.byteLength(deviceId) > this.#limits.maxClientIdBytes)
      return { returnCode: 2, reason: 'client_id_too_long' };
    // [MQTT-3.1.3-8]: a zero-byte client id comes with a clean session, or is refused.
    if (deviceId === '' && !client.clean) return { returnCode: 2, reason: 'empty_client_id_needs_clean' };
    const login = username ?? '';
    const verdict = this.#throttle.check(login, address);
    // "Server unavailable": the password was not even checked, and a real device keeps retrying.
    if (!verdict.allowed)
      return { returnCode: 3, reason: verdict.reason, retryAfterMs: verdict.retryAfterMs };
    const principal = this.#acl.authenticate(username, password);
    if (!principal) {
      this.#throttle.failed(login, address);
      return { returnCode: 4, reason: 'bad_credentials' };
    }
    this.#throttle.succeeded(login, address);
    return principal;
  }

  /** Caps are checked before aedes sees the socket, so a refused one costs no parser or client. */
  #accept(aedes: Aedes, socket: Socket): void {
    const address = addressKey(socket.remoteAddress);
    const admission = this.#caps.admit(address);
    if (admission !== 'admitted') {
      socket.destroy();
      this.#refusedConnections++;
      this.#logRefusal(address, 'MQTT connection refused', { reason: admission, open: this.#caps.open });
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#caps.release(address);
    });
    const { conn, guard } = guardedConnection(socket, {
      maxConnectBytes: Math.min(this.#limits.maxConnectBytes, this.#deps.maxPacketBytes),
      maxPacketBytes: this.#deps.maxPacketBytes,
    });
    guard.gate = (publishes, resume) => this.#flow.passed(this.#gatewayOf.get(conn), publishes, resume);
    this.#addresses.set(conn, address);
    aedes.handle(conn);
  }

  /** Levels are aedes' check (`maxTopicLevels`); bytes are ours. */
  #topicProblem(topic: string): 'topic_too_long' | undefined {
    return Buffer.byteLength(topic) > this.#limits.maxTopicBytes ? 'topic_too_long' : undefined;
  }

  /** A session at start-up with the example's password is open to anyone who has read the README. */
  #warnDemoPasswords(): void {
    const { host, directory, log } = this.#deps;
    if (isLoopback(host)) return;
    for (const site of directory.sites) {
      if (!site.gateway.password.endsWith('-demo')) continue;
      log.error(
        { site: site.id, gateway: site.gateway.username, host },
        `site gateway ${site.gateway.username} still has the example's demo password while the broker listens on ${host}: anyone can publish as site ${site.id}; set sites[].gateway.password`,
      );
    }
  }

  #logRefusal(address: string, msg: string, fields: Record<string, unknown>): void {
    const slot = this.#refusalLog.take(`${msg}${SESSION_SEPARATOR}${address}`);
    if (!slot) return;
    const suppressed = slot.suppressed > 0 ? { suppressedSinceLast: slot.suppressed } : {};
    this.#deps.log.warn({ address, ...fields, ...suppressed }, msg);
  }

  #who(client: Client): { clientId: string | undefined; login: string | undefined } {
    const session = this.#sessions.get(client);
    return { clientId: clip(session?.deviceId ?? client.id), login: session?.login };
  }

  #deviceIdOf(client: Client): string | undefined {
    return this.#sessions.get(client)?.deviceId ?? this.#sentIds.get(client) ?? client.id ?? undefined;
  }

  #addressOf(client: Client): string {
    return this.#addresses.get(client.conn as Duplex) ?? 'unknown';
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\./i.test(host);
}
