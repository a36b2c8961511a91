/**
 * Runs the generator against a live xiaoer: one MQTT connection per site and device family, as
 * each ecosystem's bridge on a site gateway would have (site credentials, client id `<site>-...`,
 * which the broker requires), the simulated clock advancing `speed` times real time, and BMS
 * point writes handed to the simulated OPC UA servers.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { SimGenerator, type SimOutput } from './generator.ts';
import type { Publish } from './payloads.ts';
import { type Family, gatewayLogin, type Population } from './population.ts';

export interface BmsSink {
  write(site: string, point: string, value: number | boolean): void;
  bad(site: string, point: string, statusCode: string): void;
}

export interface RunnerOptions {
  population: Population;
  seed: string;
  speed: number;
  faultsPerHour: number;
  mqttUrl: string;
  bms?: BmsSink;
  /** How often the simulated clock is advanced (real ms). */
  tickMs?: number;
  /** Told about every fault that starts or clears. */
  onFault?(output: Extract<SimOutput, { type: 'fault' }>): void;
  /** Told about connection trouble after start-up (start-up errors are thrown). */
  onWarning?(message: string): void;
}

export interface RunnerStats {
  messages: number;
  publishErrors: number;
  faultsStarted: number;
  faultsCleared: number;
  bmsWrites: number;
}

const CONNECT_TIMEOUT_MS = 10_000;

export class SimulatorRunner {
  readonly stats: RunnerStats = {
    messages: 0,
    publishErrors: 0,
    faultsStarted: 0,
    faultsCleared: 0,
    bmsWrites: 0,
  };
  readonly #opts: RunnerOptions;
  readonly #clients = new Map<string, MqttClient>();
  #generator: SimGenerator | undefined;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;

  constructor(opts: RunnerOptions) {
    this.#opts = opts;
  }

  /** Simulated milliseconds since the start. */
  get simulatedMs(): number {
    return this.#generator?.nowMs ?? 0;
  }

  get activeFaults(): number {
    return this.#generator?.activeFaults ?? 0;
  }

  /** Connects every bridge, announces the Sparkplug edge nodes, then starts the clock. */
  async start(): Promise<void> {
    const { population } = this.#opts;
    const families = new Map<string, Set<Family>>();
    for (const d of population.devices) {
      if (d.family === 'bms') continue;
      const set = families.get(d.site) ?? new Set<Family>();
      set.add(d.family);
      families.set(d.site, set);
    }
    // The generator's clock starts now; payload timestamps follow it.
    this.#startedAt = Date.now();
    const generator = new SimGenerator({
      seed: this.#opts.seed,
      population,
      faultsPerHour: this.#opts.faultsPerHour,
      startWallMs: this.#startedAt,
      speed: this.#opts.speed,
    });
    this.#generator = generator;
    try {
      for (const [site, set] of families) {
        for (const family of set) this.#clients.set(`${site}/${family}`, await this.#connect(site, family));
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#timer = setInterval(() => this.#tick(), this.#opts.tickMs ?? 100);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    // Not forced: QoS 1 messages in flight are still delivered and acknowledged.
    await Promise.all(clients.map((c) => c.endAsync(false).catch(() => c.endAsync(true))));
  }

  /** A maintainer reported the asset repaired; false if the simulator had no fault on it. */
  repaired(site: string, assetId: string): boolean {
    return this.#generator?.repaired(site, assetId) ?? false;
  }

  #tick(): void {
    const generator = this.#generator;
    if (!generator) return;
    const simNow = (Date.now() - this.#startedAt) * this.#opts.speed;
    for (const out of generator.advance(simNow)) this.#dispatch(out);
  }

  #dispatch(out: SimOutput): void {
    if (out.type === 'publish') this.#publish(out.site, out.message);
    else if (out.type === 'bms') {
      if (!this.#opts.bms) return;
      this.stats.bmsWrites++;
      if (out.bad) this.#opts.bms.bad(out.site, out.point, out.bad);
      else if (out.value !== undefined) this.#opts.bms.write(out.site, out.point, out.value);
    } else {
      if (out.phase === 'start') this.stats.faultsStarted++;
      else this.stats.faultsCleared++;
      this.#opts.onFault?.(out);
    }
  }

  #publish(site: string, message: Publish): void {
    const client = this.#clients.get(`${site}/${message.family}`);
    if (!client) return;
    const payload = typeof message.payload === 'string' ? message.payload : Buffer.from(message.payload);
    client.publish(message.topic, payload, { qos: message.qos, retain: message.retain }, (err) => {
      if (err) this.stats.publishErrors++;
      else this.stats.messages++;
    });
  }

  #clientOptions(site: string, family: Family): IClientOptions {
    const login = gatewayLogin(site);
    const options: IClientOptions = {
      ...login,
      // The embedded broker only accepts a gateway's client ids that start with `<site>-`.
      clientId: `${site}-sim-${family}-${process.pid.toString(16)}${Math.random().toString(16).slice(2, 6)}`,
      reconnectPeriod: 2000,
      connectTimeout: CONNECT_TIMEOUT_MS,
      clean: true,
    };
    if (family === 'sparkplug') {
      const will = this.#generatorOrThrow().sparkplugWill(site, Date.now());
      options.will = { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: false };
      // QoS 0 DATA must not be queued across a reconnect, ahead of the new session's births.
      options.queueQoSZero = false;
    }
    return options;
  }

  #generatorOrThrow(): SimGenerator {
    if (!this.#generator) throw new Error('runner not started');
    return this.#generator;
  }

  async #connect(site: string, family: Family): Promise<MqttClient> {
    const options = this.#clientOptions(site, family);
    const client = mqtt.connect(this.#opts.mqttUrl, options);
    if (family === 'sparkplug') {
      // Every new session begins with NBIRTH and the DBIRTHs (Sparkplug 3.0, 5.x "Edge Node Session").
      client.on('connect', () => this.#sparkplugSession(site, client));
    }
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        client.removeListener('connect', onConnect);
        client.removeListener('error', done);
        if (!err) return resolve();
        client.end(true);
        reject(new Error(`cannot connect to ${this.#opts.mqttUrl} as ${options.username}: ${err.message}`));
      };
      const onConnect = () => done();
      const timer = setTimeout(() => done(new Error('no answer')), CONNECT_TIMEOUT_MS);
      client.once('connect', onConnect);
      client.once('error', done);
    });
    client.on('error', (err) => this.#opts.onWarning?.(`MQTT ${site}/${family}: ${err.message}`));
    client.on('offline', () => this.#opts.onWarning?.(`MQTT ${site}/${family}: disconnected, retrying`));
    return client;
  }

  #sparkplugSession(site: string, client: MqttClient): void {
    const generator = this.#generatorOrThrow();
    for (const birth of generator.sparkplugBirths(site, Date.now())) {
      client.publish(birth.topic, Buffer.from(birth.payload), { qos: birth.qos }, (err) => {
        if (err) this.stats.publishErrors++;
        else this.stats.messages++;
      });
    }
    // The will of the next connection names the session its NBIRTH will start.
    const will = generator.sparkplugWill(site, Date.now());
    client.options.will = { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: false };
  }
}
