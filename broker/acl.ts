import { timingSafeEqual } from 'node:crypto';
import type { Directory } from '../src/config/directory.ts';

/**
 * Per-site topic ACL: a site gateway may publish and subscribe only under its own site prefix.
 * A device's site is its topic prefix, so this is what keeps one site from raising tickets for
 * another.
 */
export class SiteAcl {
  readonly #directory: Directory;

  constructor(directory: Directory) {
    this.#directory = directory;
  }

  /** The site a gateway login belongs to, if the credentials match. */
  authenticate(username: string | undefined, password: Buffer | undefined): string | undefined {
    if (!username || !password) return undefined;
    const site = this.#directory.siteOfGateway(username);
    if (!site) return undefined;
    return constantTimeEqual(password, Buffer.from(site.gateway.password, 'utf8')) ? site.id : undefined;
  }

  mayPublish(site: string, topic: string): boolean {
    // [MQTT-4.7.2-1] topics starting with $ are reserved for the broker.
    return !topic.startsWith('$') && topic.startsWith(`${site}/`);
  }

  /** Wildcards are fine inside the site's own subtree only (`north/#`, not `#` or `+/zigbee2mqtt/#`). */
  maySubscribe(site: string, filter: string): boolean {
    return filter.startsWith(`${site}/`);
  }
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
