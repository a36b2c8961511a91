import type { AssetId, SiteId } from '../domain/types.ts';
import { defaultSiteCode } from '../domain/work-order.ts';
import type { RuleOverride } from '../rules/config.ts';
import type { CategoryConfig, Config, DeviceConfig, SiteConfig } from './schema.ts';

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
  /** `null`: the category has no arrival target (a request that needs nobody on site). */
  arrivalMs: number | null;
  repairMs: number;
}

/** Lookups over the validated config: sites, their gateways, assets and category SLA targets. */
export class Directory {
  readonly #sites = new Map<SiteId, SiteConfig>();
  readonly #gatewayUsers = new Map<string, SiteConfig>();
  /**
   * Per site, per device id: two lookups of the strings a message already carries, where one map
   * keyed by `site + id` would build and hash a new string for every reading (a hot path).
   */
  readonly #assets = new Map<string, Map<string, Asset>>();
  readonly #assetList: Asset[];
  readonly #config: Config;

  constructor(config: Config) {
    this.#config = config;
    for (const site of config.sites) {
      this.#sites.set(site.id, site);
      this.#gatewayUsers.set(site.gateway.username, site);
      for (const device of site.devices) {
        const asset = toAsset(site.id, device);
        let ofSite = this.#assets.get(site.id);
        if (!ofSite) {
          ofSite = new Map();
          this.#assets.set(site.id, ofSite);
        }
        ofSite.set(device.id, asset);
      }
    }
    this.#assetList = [...this.#assets.values()].flatMap((ofSite) => [...ofSite.values()]);
  }

  site(id: SiteId): SiteConfig | undefined {
    return this.#sites.get(id);
  }

  get sites(): readonly SiteConfig[] {
    return this.#config.sites;
  }

  /** What the site's work-order numbers begin with (`XC`); a site no longer configured keeps its default. */
  siteCode(id: SiteId): string {
    return this.#sites.get(id)?.code ?? defaultSiteCode(id);
  }

  /** The time zone of reports and of the day in a work-order number. */
  get timeZone(): string {
    return this.#config.reports.timeZone;
  }

  siteOfGateway(username: string): SiteConfig | undefined {
    return this.#gatewayUsers.get(username);
  }

  asset(site: SiteId, id: AssetId): Asset | undefined {
    return this.#assets.get(site)?.get(id);
  }

  assets(): IterableIterator<Asset> {
    return this.#assetList.values();
  }

  /** Own keys only: a category named `__proto__` or `toString` must not be found on Object.prototype. */
  categoryExists(category: string): boolean {
    return Object.hasOwn(this.#config.categories, category);
  }

  category(id: string): CategoryConfig | undefined {
    return this.categoryExists(id) ? this.#config.categories[id] : undefined;
  }

  categoryIds(): string[] {
    return Object.keys(this.#config.categories);
  }

  /** The category's own targets over the global ones, field by field. */
  slaFor(category: string): SlaTargets {
    const own = this.category(category)?.sla;
    const arrival = own?.arrivalMinutes === undefined ? this.#config.sla.arrivalMinutes : own.arrivalMinutes;
    const repair = own?.repairMinutes ?? this.#config.sla.repairMinutes;
    return { arrivalMs: arrival === null ? null : arrival * 60_000, repairMs: repair * 60_000 };
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
