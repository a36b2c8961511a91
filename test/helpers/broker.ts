import { connect as tcpConnect } from 'node:net';
import { Writable } from 'node:stream';
import { type IClientOptions, MqttClient } from 'mqtt';
import type { BrokerLimits, LoginThrottleSettings } from '../../broker/config.ts';
import { EmbeddedBroker } from '../../broker/embedded-broker.ts';
import { Directory } from '../../src/config/directory.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/logger.ts';
import type { IncomingMessage } from '../../src/ingest/ingest.ts';
import { exampleConfig } from './domain.ts';

export type LimitsOverride = Omit<Partial<BrokerLimits>, 'loginThrottle'> & {
  loginThrottle?: Partial<LoginThrottleSettings>;
};

export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A logger whose lines (pino JSON, debug and up) the test can read. */
export function capturedLogger() {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { log: createLogger('debug', { destination: sink }), lines };
}

/** Adds a site whose gateway logs in as `<id>-gw`. */
export function addSite(config: Config, id: string, password: string): void {
  config.sites.push({ id, name: id, gateway: { username: `${id}-gw`, password }, devices: [] });
}

/** Resolves when the client's connection closes (MQTT.js' emitter is not a node EventEmitter to `once`). */
export const whenClosed = (client: MqttClient) =>
  new Promise<void>((resolve) => client.once('close', () => resolve()));

/** An MQTT.js client with the session-present flag of its CONNACK [MQTT-3.2.2]. */
export type ConnectedClient = MqttClient & { sessionPresent: boolean };

export interface BrokerHarness {
  broker: EmbeddedBroker;
  port: number;
  /** Messages the broker handed to the recorder, in order. */
  recorded: IncomingMessage[];
  logs: LogLine[];
  /** `onGateway` calls, as `<site> <change>`. */
  gatewayChanges: string[];
  /**
   * An MQTT.js client (as the example's xincheng gateway unless told otherwise), optionally from
   * another loopback source address; rejects with the CONNACK refusal.
   */
  connect(opts?: IClientOptions & { localAddress?: string }): Promise<ConnectedClient>;
  stop(): Promise<void>;
}

/** The embedded broker on an ephemeral loopback port, over the example config, recording everything. */
export async function startBroker(
  opts: {
    configure?(config: Config): void;
    limits?: LimitsOverride;
    host?: string;
    maxPacketBytes?: number;
    onPublish?(msg: IncomingMessage): Promise<void>;
  } = {},
): Promise<BrokerHarness> {
  const config = exampleConfig();
  opts.configure?.(config);
  const { loginThrottle, ...limits } = opts.limits ?? {};
  const recorded: IncomingMessage[] = [];
  const gatewayChanges: string[] = [];
  const { log, lines } = capturedLogger();
  const broker = new EmbeddedBroker({
    directory: new Directory(config),
    subscribers: config.mqtt.subscribers,
    host: opts.host ?? '127.0.0.1',
    port: 0,
    maxPacketBytes: opts.maxPacketBytes ?? config.mqtt.maxPacketBytes,
    limits: { ...config.mqtt, ...limits, loginThrottle: { ...config.mqtt.loginThrottle, ...loginThrottle } },
    log,
    onPublish:
      opts.onPublish ??
      (async (msg) => {
        recorded.push(msg);
      }),
    onGateway: (site, _username, change) => gatewayChanges.push(`${site} ${change}`),
  });
  await broker.start();
  const clients: MqttClient[] = [];
  return {
    broker,
    port: broker.port,
    recorded,
    logs: lines,
    gatewayChanges,
    connect: ({ localAddress, ...options } = {}) =>
      new Promise((resolve, reject) => {
        const stream = () =>
          tcpConnect({ port: broker.port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
        const client = new MqttClient(stream, {
          username: 'xincheng-gw',
          password: 'xincheng-demo',
          reconnectPeriod: 0,
          ...options,
        });
        clients.push(client);
        client.once('connect', (connack) =>
          resolve(Object.assign(client, { sessionPresent: connack.sessionPresent })),
        );
        client.once('error', reject);
        client.once('close', () => reject(new Error('connection closed before CONNACK')));
      }),
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.stop();
    },
  };
}
