import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client address is counted under. IPv4 (also IPv4-mapped IPv6) is the address itself;
 * IPv6 is its /64, because one host or LAN gets a whole /64 and could otherwise pick a new
 * address for every connection or login attempt.
 */
export function addressKey(remote: string | undefined): string {
  if (!remote) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remote)?.[1];
  if (mapped) return mapped;
  const ip = remote.split('%')[0] ?? remote; // a link-local zone index names an interface, not a host
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // A dotted IPv4 tail stands for two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - width(left) - width(right)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export type Admission = 'admitted' | 'total_cap' | 'address_cap';

/**
 * Open connections, in total and per address key. Checked when a socket is accepted, before any
 * byte is read, so a flood of sockets costs no parser or broker state. The per-address map only
 * holds addresses with an open connection, so it is bounded by the total cap.
 */
export class ConnectionCaps {
  readonly #maxTotal: number;
  readonly #maxPerAddress: number;
  readonly #perAddress = new Map<string, number>();
  #total = 0;

  constructor(limits: { maxConnections: number; maxConnectionsPerAddress: number }) {
    this.#maxTotal = limits.maxConnections;
    this.#maxPerAddress = limits.maxConnectionsPerAddress;
  }

  /** An admitted connection counts until `release`. */
  admit(address: string): Admission {
    if (this.#total >= this.#maxTotal) return 'total_cap';
    const open = this.#perAddress.get(address) ?? 0;
    if (open >= this.#maxPerAddress) return 'address_cap';
    this.#perAddress.set(address, open + 1);
    this.#total++;
    return 'admitted';
  }

  release(address: string): void {
    const open = this.#perAddress.get(address);
    if (open === undefined) return;
    if (open <= 1) this.#perAddress.delete(address);
    else this.#perAddress.set(address, open - 1);
    this.#total--;
  }

  get open(): number {
    return this.#total;
  }
}
