/**
 * The simulator's pure core: a discrete-event simulation over simulated time. Devices report at
 * their own intervals, faults arrive as a Poisson process with the bureau's mix (faults.ts), hold
 * for a while and clear. `advance(t)` returns everything due up to simulated time `t`, in order:
 * MQTT messages, BMS point writes, and fault records. No I/O and no clock: given the same seed,
 * population and options it returns the same sequence, which is what `--seed` promises.
 */
import { bmsWrites } from './bms-points.ts';
import { type DeviceState, drift, effective, initialState } from './device-state.ts';
import { drawFault, type FaultType } from './faults.ts';
import { SparkplugSession } from './payload-sparkplug.ts';
import { availabilityMessages, type Publish, stateMessages } from './payloads.ts';
import type { Population, SimDevice } from './population.ts';
import { Rng } from './rng.ts';

export interface GeneratorOptions {
  seed: string;
  population: Population;
  /** Faults per simulated hour over the whole population. */
  faultsPerHour: number;
  /** Wall-clock time at simulated time 0, for timestamps inside payloads. */
  startWallMs: number;
  /** How many simulated milliseconds pass per wall-clock millisecond. */
  speed: number;
  /** The first reports are spread over this much simulated time (default 20 s). */
  warmupMs?: number;
  /** False: only fault records, no messages (fault statistics over long runs, cheaply). */
  messages?: boolean;
}

export type SimOutput =
  | { type: 'publish'; atMs: number; site: string; message: Publish }
  | { type: 'bms'; atMs: number; site: string; point: string; value?: number | boolean; bad?: string }
  | {
      type: 'fault';
      atMs: number;
      site: string;
      device: SimDevice;
      fault: FaultType;
      phase: 'start' | 'clear';
      /** Why a fault cleared: by itself, or after a maintainer's repair. */
      cause?: 'recovered' | 'repaired';
    };

type Event =
  | { at: number; order: number; kind: 'report'; sim: SimulatedDevice }
  | { at: number; order: number; kind: 'fault' }
  | {
      at: number;
      order: number;
      kind: 'clear';
      sim: SimulatedDevice;
      token: number;
      cause: 'recovered' | 'repaired';
    };

type WithoutOrder<E> = E extends unknown ? Omit<E, 'order'> : never;
type NewEvent = WithoutOrder<Event>;

interface SimulatedDevice {
  device: SimDevice;
  state: DeviceState;
  lastReportAt: number;
  fault?: { type: FaultType; token: number; repairScheduled: boolean };
}

const MINUTE = 60_000;

export class SimGenerator {
  readonly #opts: GeneratorOptions;
  readonly #rng: { drift: Rng; schedule: Rng; faults: Rng };
  readonly #devices = new Map<string, SimulatedDevice>();
  readonly #sparkplug = new Map<string, SparkplugSession>();
  readonly #queue = new EventQueue();
  #order = 0;
  #tokens = 0;
  #now = 0;

  constructor(opts: GeneratorOptions) {
    if (!(opts.speed > 0)) throw new Error('speed must be positive');
    this.#opts = opts;
    const root = new Rng(opts.seed);
    this.#rng = { drift: root.fork('drift'), schedule: root.fork('schedule'), faults: root.fork('faults') };
    const initial = root.fork('initial');
    const warmup = opts.warmupMs ?? 20_000;
    for (const device of opts.population.devices) {
      const sim: SimulatedDevice = { device, state: initialState(device, initial), lastReportAt: 0 };
      this.#devices.set(key(device.site, device.id), sim);
      const first = this.#rng.schedule.float(0, Math.min(device.reportMs, warmup));
      this.#push({ at: first, kind: 'report', sim });
      if (device.family === 'sparkplug' && !this.#sparkplug.has(device.site)) {
        this.#sparkplug.set(device.site, new SparkplugSession(device.site));
      }
    }
    if (opts.faultsPerHour > 0) this.#push({ at: this.#nextFaultGap(), kind: 'fault' });
  }

  get nowMs(): number {
    return this.#now;
  }

  get activeFaults(): number {
    let n = 0;
    for (const sim of this.#devices.values()) if (sim.fault) n++;
    return n;
  }

  /** Wall-clock time of a simulated instant, in whole milliseconds as devices stamp it. */
  wall(simMs: number): number {
    return Math.round(this.#opts.startWallMs + simMs / this.#opts.speed);
  }

  /** Everything due up to simulated time `untilMs`, in time order. */
  advance(untilMs: number): SimOutput[] {
    const out: SimOutput[] = [];
    for (let e = this.#queue.peek(); e && e.at <= untilMs; e = this.#queue.peek()) {
      this.#queue.pop();
      this.#now = Math.max(this.#now, e.at);
      if (e.kind === 'report') out.push(...this.#report(e.sim, e.at));
      else if (e.kind === 'fault') out.push(...this.#faultArrives(e.at));
      else out.push(...this.#clear(e.sim, e.token, e.at, e.cause));
    }
    this.#now = Math.max(this.#now, untilMs);
    return out;
  }

  /** Sites that have a Sparkplug edge node. */
  sparkplugSites(): string[] {
    return [...this.#sparkplug.keys()];
  }

  /** NBIRTH and DBIRTHs of a site's edge node for a new MQTT session, with the current values. */
  sparkplugBirths(site: string, wallMs: number): Publish[] {
    const session = this.#session(site);
    session.newSession();
    const births = [session.nodeBirth(wallMs)];
    for (const sim of this.#devices.values()) {
      const { device } = sim;
      if (device.site !== site || device.family !== 'sparkplug' || device.model === 'sp-edge') continue;
      births.push(session.deviceBirth(device, effective(sim.state), wallMs));
    }
    return births;
  }

  /** The NDEATH to set as the edge node's MQTT will for the session `sparkplugBirths` starts next. */
  sparkplugWill(site: string, wallMs: number): Publish {
    return this.#session(site).death(wallMs, { nextSession: true });
  }

  /**
   * A maintainer reported the asset repaired: if its fault is still on, the device recovers a
   * little later (the maintainer leaves, the sensor dries, the lock reconnects). False when the
   * asset has no active fault.
   */
  repaired(site: string, assetId: string): boolean {
    const sim = this.#devices.get(key(site, assetId));
    if (!sim?.fault || sim.fault.repairScheduled) return false;
    sim.fault.repairScheduled = true;
    const at = this.#now + this.#rng.schedule.float(0.5, 2) * MINUTE;
    this.#push({ at, kind: 'clear', sim, token: sim.fault.token, cause: 'repaired' });
    return true;
  }

  #session(site: string): SparkplugSession {
    const session = this.#sparkplug.get(site);
    if (!session) throw new Error(`site ${site} has no Sparkplug edge node`);
    return session;
  }

  #push(e: NewEvent): void {
    this.#queue.push({ ...e, order: this.#order++ } as Event);
  }

  #nextFaultGap(): number {
    return this.#rng.faults.exponential((60 * MINUTE) / this.#opts.faultsPerHour);
  }

  #report(sim: SimulatedDevice, at: number): SimOutput[] {
    const { device, state } = sim;
    drift(device, state, this.#rng.drift, at - sim.lastReportAt);
    sim.lastReportAt = at;
    this.#push({ at: at + device.reportMs * this.#rng.schedule.float(0.8, 1.2), kind: 'report', sim });
    if (!effective(state).online) return []; // an offline device says nothing
    const first = state.counters.reports === 1;
    return this.#messages(sim, at, { edge: false, announce: first });
  }

  #faultArrives(at: number): SimOutput[] {
    this.#push({ at: at + this.#nextFaultGap(), kind: 'fault' });
    const rng = this.#rng.faults;
    const fault = drawFault(rng, (f) => this.#candidates(f).length > 0);
    if (!fault) return [];
    const sim = rng.pick(this.#candidates(fault));
    const token = ++this.#tokens;
    sim.fault = { type: fault, token, repairScheduled: false };
    sim.state.override = fault.effect(rng);
    sim.state.faultId = fault.id;
    const [min, max] = fault.minutes;
    this.#push({ at: at + rng.float(min, max) * MINUTE, kind: 'clear', sim, token, cause: 'recovered' });
    const record: SimOutput = {
      type: 'fault',
      atMs: at,
      site: sim.device.site,
      device: sim.device,
      fault,
      phase: 'start',
    };
    if (sim.state.override.online === false) {
      return [
        record,
        ...this.#publish(sim.device, at, availabilityMessages(sim.device, false, this.wall(at))),
      ];
    }
    return [record, ...this.#messages(sim, at, { edge: true, announce: false })];
  }

  #clear(sim: SimulatedDevice, token: number, at: number, cause: 'recovered' | 'repaired'): SimOutput[] {
    if (sim.fault?.token !== token) return []; // already cleared by an earlier repair
    const fault = sim.fault.type;
    const wasOffline = sim.state.override.online === false;
    sim.fault = undefined;
    sim.state.override = {};
    sim.state.faultId = undefined;
    const record: SimOutput = {
      type: 'fault',
      atMs: at,
      site: sim.device.site,
      device: sim.device,
      fault,
      phase: 'clear',
      cause,
    };
    return [record, ...this.#messages(sim, at, { edge: !wasOffline, announce: wasOffline })];
  }

  #candidates(fault: FaultType): SimulatedDevice[] {
    const out: SimulatedDevice[] = [];
    for (const sim of this.#devices.values()) {
      if (!sim.fault && fault.models.includes(sim.device.model)) out.push(sim);
    }
    return out;
  }

  /** What the device sends now; `announce` first says it is online (after start or an outage). */
  #messages(sim: SimulatedDevice, at: number, opts: { edge: boolean; announce: boolean }): SimOutput[] {
    if (this.#opts.messages === false) return [];
    const { device, state } = sim;
    const v = effective(state);
    const wallMs = this.wall(at);
    if (device.family === 'bms') {
      return bmsWrites(device, v).map((w) => ({ type: 'bms', atMs: at, site: device.site, ...w }));
    }
    if (device.family === 'sparkplug') {
      if (device.model === 'sp-edge') return [];
      return this.#publish(device, at, [this.#session(device.site).deviceData(device, v, wallMs)]);
    }
    const messages = opts.announce ? availabilityMessages(device, true, wallMs) : [];
    messages.push(...stateMessages({ device, v, c: state.counters, wallMs, edge: opts.edge }));
    return this.#publish(device, at, messages);
  }

  #publish(device: SimDevice, at: number, messages: Publish[]): SimOutput[] {
    return messages.map((message) => ({ type: 'publish', atMs: at, site: device.site, message }));
  }
}

const key = (site: string, id: string) => `${site}\u0000${id}`;

/** A binary min-heap on (time, insertion order), so equal times keep a deterministic order. */
class EventQueue {
  readonly #items: Event[] = [];

  peek(): Event | undefined {
    return this.#items[0];
  }

  push(e: Event): void {
    const items = this.#items;
    items.push(e);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as Event, items[parent] as Event)) break;
      [items[i], items[parent]] = [items[parent] as Event, items[i] as Event];
      i = parent;
    }
  }

  pop(): Event | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l] as Event, items[m] as Event)) m = l;
        if (r < items.length && before(items[r] as Event, items[m] as Event)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m] as Event, items[i] as Event];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Event, b: Event) => a.at < b.at || (a.at === b.at && a.order < b.order);
