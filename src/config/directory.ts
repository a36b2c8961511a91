import type { AssetId, SiteId } from '../domain/types.ts';
import type { RuleOverride } from '../rules/config.ts';
import type { Config, DeviceConfig, SiteConfig } from './schema.ts';

export interface Asset {
  site: SiteId;
  id: AssetId;
  kind: string;
  category: string;
  name: string;
  location?: string;
  /** Per-rule changes for this asset (thresholds, timings, or disabled). */
  rules?: Readonly<Record<string, RuleOverride>>;
}

export interface SlaTargets {
  arrivalMs: number;
  repairMs: number;
}

const key = (site: string, assetId: string) => `${site}\u0000${assetId}`;

/** Lookups over the validated config: sites, their gateways, assets and category SLA targets. */
export class Directory {
  readonly #sites = new Map<SiteId, SiteConfig>();
  readonly #gatewayUsers = new Map<string, SiteConfig>();
  readonly #assets = new Map<string, Asset>();
  readonly #config: Config;

  constructor(config: Config) {
    this.#config = config;
    for (const site of config.sites) {
      this.#sites.set(site.id, site);
      this.#gatewayUsers.set(site.gateway.username, site);
      for (const device of site.devices) this.#assets.set(key(site.id, device.id), toAsset(site.id, device));
    }
  }

  site(id: SiteId): SiteConfig | undefined {
    return this.#sites.get(id);
  }

  get sites(): readonly SiteConfig[] {
    return this.#config.sites;
  }

  siteOfGateway(username: string): SiteConfig | undefined {
    return this.#gatewayUsers.get(username);
  }

  asset(site: SiteId, id: AssetId): Asset | undefined {
    return this.#assets.get(key(site, id));
  }

  assets(): IterableIterator<Asset> {
    return this.#assets.values();
  }

  categoryExists(category: string): boolean {
    return category in this.#config.categories;
  }

  categoryIds(): string[] {
    return Object.keys(this.#config.categories);
  }

  slaFor(category: string): SlaTargets {
    const own = this.#config.categories[category]?.sla;
    const minutes = {
      arrival: own?.arrivalMinutes ?? this.#config.sla.arrivalMinutes,
      repair: own?.repairMinutes ?? this.#config.sla.repairMinutes,
    };
    return { arrivalMs: minutes.arrival * 60_000, repairMs: minutes.repair * 60_000 };
  }
}

function toAsset(site: SiteId, device: DeviceConfig): Asset {
  return {
    site,
    id: device.id,
    kind: device.kind,
    category: device.category ?? device.kind,
    name: device.name ?? device.id,
    ...(device.location ? { location: device.location } : {}),
    ...(device.rules ? { rules: device.rules } : {}),
  };
}
