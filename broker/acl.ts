import { createHash, timingSafeEqual } from 'node:crypto';
import type { Directory } from '../src/config/directory.ts';

/** Who a broker connection is: a site's gateway, or an integration reading xiaoer's outbound topics. */
export type Principal =
  | { kind: 'gateway'; site: string; username: string }
  | { kind: 'subscriber'; name: string; topics: readonly string[] };

export interface SubscriberLogin {
  username: string;
  password: string;
  topics: readonly string[];
}

/**
 * Per-site topic ACL: a site gateway may publish and subscribe only under its own site prefix.
 * A device's site is its topic prefix, so this is what keeps one site from raising tickets for
 * another. Subscribers (other systems) may only subscribe, to the filters they are given.
 */
export class SiteAcl {
  readonly #directory: Directory;
  readonly #subscribers: Map<string, SubscriberLogin>;

  constructor(directory: Directory, subscribers: readonly SubscriberLogin[] = []) {
    this.#directory = directory;
    this.#subscribers = new Map(subscribers.map((s) => [s.username, s]));
  }

  authenticate(username: string | undefined, password: Buffer | undefined): Principal | undefined {
    if (!username || !password) return undefined;
    const site = this.#directory.siteOfGateway(username);
    if (site) {
      return sameSecret(password, site.gateway.password)
        ? { kind: 'gateway', site: site.id, username }
        : undefined;
    }
    const subscriber = this.#subscribers.get(username);
    if (subscriber && sameSecret(password, subscriber.password)) {
      return { kind: 'subscriber', name: username, topics: subscriber.topics };
    }
    return undefined;
  }

  mayPublish(who: Principal, topic: string): boolean {
    // [MQTT-4.7.2-1] topics starting with $ are reserved for the broker; [MQTT-3.3.2-2] no wildcards.
    if (who.kind !== 'gateway' || topic.startsWith('$') || /[+#]/.test(topic)) return false;
    return topic.startsWith(`${who.site}/`);
  }

  /** Wildcards are fine inside one's own subtree only (`north/#`, not `#` or `+/zigbee2mqtt/#`). */
  maySubscribe(who: Principal, filter: string): boolean {
    if (who.kind === 'gateway') return filter.startsWith(`${who.site}/`);
    return who.topics.some((allowed) =>
      allowed.endsWith('/#')
        ? filter.startsWith(allowed.slice(0, -1)) || filter === allowed.slice(0, -2)
        : filter === allowed,
    );
  }
}

/** Compares digests, so neither the content nor the length of the password leaks through timing. */
function sameSecret(given: Buffer, expected: string): boolean {
  const digest = (b: Buffer | string) => createHash('sha256').update(b).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
