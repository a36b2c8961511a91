import type { Asset, Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import { badRequest, notFound } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { AssetStatus, DiscoveredAsset, Store } from '../store/store.ts';

export interface AssetView extends Asset {
  status: AssetStatus;
  /** `config` for assets the configuration lists, else the adapter that first saw it. */
  source: string;
  firstSeenAt?: number;
}

const key = (site: string, id: string) => `${site}\u001f${id}`;

/** Per site: more unknown devices than this is a misbehaving gateway, not a building. */
export const MAX_UNCONFIRMED_PER_SITE = 2000;

/**
 * Every asset xiaoer knows: those in the config, and those first seen on the wire. A discovered
 * asset stays `unconfirmed` (its readings are kept, its rules do not run) until an admin confirms
 * its kind and category.
 */
export class AssetRegistry {
  readonly #directory: Directory;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #bus: EventBus;
  readonly #discovered = new Map<string, DiscoveredAsset>();
  readonly #unconfirmedPerSite = new Map<string, number>();
  /** Devices not registered because their site is at the cap (counted, logged once). */
  overflow = 0;

  constructor(deps: { directory: Directory; store: Store; clock: Clock; bus: EventBus; log: Logger }) {
    this.#bus = deps.bus;
    this.#directory = deps.directory;
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#log = deps.log;
  }

  async load(): Promise<void> {
    for (const a of await this.#store.listDiscoveredAssets()) {
      this.#discovered.set(key(a.site, a.id), a);
      if (a.status === 'unconfirmed') this.#count(a.site, 1);
    }
  }

  /**
   * Another instance discovered or confirmed assets (src/cluster): they are read again; a newly
   * confirmed one is announced as if confirmed here, so its rules are resolved afresh.
   */
  async refresh(): Promise<void> {
    for (const a of await this.#store.listDiscoveredAssets()) {
      const k = key(a.site, a.id);
      const before = this.#discovered.get(k);
      if (before?.status === a.status && before.kind === a.kind && before.confirmedAt === a.confirmedAt)
        continue;
      this.#discovered.set(k, a);
      const unconfirmed = (x: DiscoveredAsset | undefined) => (x?.status === 'unconfirmed' ? 1 : 0);
      this.#count(a.site, unconfirmed(a) - unconfirmed(before));
      if (before && a.status === 'confirmed') this.#bus.emit('assetConfirmed', a.site, a.id);
    }
  }

  /** The asset rules run for: configured, or discovered and confirmed. */
  active(site: string, id: string): Asset | undefined {
    const configured = this.#directory.asset(site, id);
    if (configured) return configured;
    const found = this.#discovered.get(key(site, id));
    return found?.status === 'confirmed' ? toAsset(found) : undefined;
  }

  /** Every asset rules run for: the configured ones, then the confirmed discovered ones. */
  *activeAssets(): IterableIterator<Asset> {
    yield* this.#directory.assets();
    for (const a of this.#discovered.values()) if (a.status === 'confirmed') yield toAsset(a);
  }

  /** Name and location for people (tickets, robots): configured, or given when confirmed. */
  describe(site: string, id: string): { name: string; location?: string } | undefined {
    const configured = this.#directory.asset(site, id);
    if (configured) return configured;
    const found = this.#discovered.get(key(site, id));
    return found ? toAsset(found) : undefined;
  }

  /** Any known kind, confirmed or not (telemetry tags readings with it). */
  kindOf(site: string, id: string): string | undefined {
    return this.#directory.asset(site, id)?.kind ?? this.#discovered.get(key(site, id))?.kind;
  }

  isKnown(site: string, id: string): boolean {
    return this.#directory.asset(site, id) !== undefined || this.#discovered.has(key(site, id));
  }

  /** Registers a device seen for the first time as unconfirmed. */
  async discover(site: string, id: string, kind: string, source: string): Promise<void> {
    if (this.isKnown(site, id)) return;
    if ((this.#unconfirmedPerSite.get(site) ?? 0) >= MAX_UNCONFIRMED_PER_SITE) {
      if (this.overflow++ === 0) {
        this.#log.error(
          { site, limit: MAX_UNCONFIRMED_PER_SITE },
          'too many unconfirmed devices; not registering more',
        );
      }
      return;
    }
    this.#count(site, 1);
    const asset: DiscoveredAsset = {
      site,
      id,
      kind,
      status: 'unconfirmed',
      source,
      firstSeenAt: this.#clock.now(),
    };
    await this.#store.addDiscoveredAsset(asset);
    this.#discovered.set(key(site, id), asset);
    this.#log.warn({ site, assetId: id, kind, source }, 'unknown device registered as unconfirmed asset');
  }

  async confirm(
    site: string,
    id: string,
    input: { kind: string; category?: string; name?: string; location?: string },
    by: string,
  ): Promise<AssetView> {
    const before = this.#discovered.get(key(site, id));
    if (!before) {
      throw this.#directory.asset(site, id)
        ? badRequest('asset_configured', `asset ${site}/${id} is in the config file; change it there`)
        : notFound('asset', `${site}/${id}`);
    }
    const category = input.category ?? input.kind;
    if (!this.#directory.categoryExists(category)) {
      throw badRequest('unknown_category', `category ${category} is not configured`, {
        known: this.#directory.categoryIds(),
      });
    }
    const confirmed = await this.#store.confirmDiscoveredAsset(site, id, {
      ...input,
      category,
      by,
      at: this.#clock.now(),
    });
    this.#discovered.set(key(site, id), confirmed);
    if (before.status === 'unconfirmed') this.#count(site, -1);
    // Rule state built for its old kind is dropped (the alarm pipeline listens).
    this.#bus.emit('assetConfirmed', site, id);
    return toView(confirmed);
  }

  #count(site: string, delta: number): void {
    this.#unconfirmedPerSite.set(site, (this.#unconfirmedPerSite.get(site) ?? 0) + delta);
  }

  list(filter: { site?: string; status?: AssetStatus } = {}): AssetView[] {
    const configured: AssetView[] = [...this.#directory.assets()].map((a) => ({
      ...a,
      status: 'confirmed',
      source: 'config',
    }));
    return [...configured, ...[...this.#discovered.values()].map(toView)].filter(
      (a) => (!filter.site || a.site === filter.site) && (!filter.status || a.status === filter.status),
    );
  }
}

function toAsset(a: DiscoveredAsset): Asset {
  return {
    site: a.site,
    id: a.id,
    kind: a.kind,
    category: a.category ?? a.kind,
    name: a.name ?? a.id,
    ...(a.location ? { location: a.location } : {}),
  };
}

function toView(a: DiscoveredAsset): AssetView {
  return {
    ...toAsset(a),
    status: a.status,
    source: a.source,
    firstSeenAt: a.firstSeenAt,
  };
}
