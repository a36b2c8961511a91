import type { Adapter, Route } from '../../adapters/index.ts';

export interface RouteMatch {
  route: Route;
  site: string;
  deviceId: string;
  params: Record<string, string>;
}

/** Finds the adapter route for a topic. Topics no adapter claims are not xiaoer's business. */
export class TopicRouter {
  readonly #routes: Route[];

  constructor(adapters: readonly Adapter[]) {
    this.#routes = adapters.flatMap((a) => a.routes);
  }

  match(topic: string): RouteMatch | undefined {
    for (const route of this.#routes) {
      const params = route.pattern.match(topic);
      if (!params?.site) continue;
      if (!Object.entries(route.where).every(([name, re]) => re.test(params[name] ?? ''))) continue;
      const deviceId = route.deviceId(params);
      if (!deviceId || route.ignoreDevices.has(deviceId)) continue;
      return { route, site: params.site, deviceId, params };
    }
    return undefined;
  }

  /** Subscription filters covering every route (or one site's topics), for an external broker. */
  filters(site?: string): string[] {
    return [
      ...new Set(
        this.#routes.map((r) => (site === undefined ? r.pattern.filter : r.pattern.filterWith({ site }))),
      ),
    ];
  }
}
