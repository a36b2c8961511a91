import pg from 'pg';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';

/** The advisory-lock key space (the two-int form) of xiaoer's cluster locks: `(LOCK_SPACE, n)`. */
export const LOCK_SPACE = 0x7869_6130; // "xia0"
/** Object id of the leader lock; partitions are 0..n-1. */
const LEADER = -1;
/** Application name of lock connections: how instances count each other in pg_stat_activity. */
const APP_PREFIX = 'xiaoer-cluster:';

/** What an instance does while it holds a role, and undoes when it gives it up or loses it. */
export interface Role {
  acquire(): Promise<void>;
  /** `lost`: the lock went with the connection (another instance may hold it already). */
  release(lost: boolean): Promise<void>;
}

export interface ClusterDeps {
  url: string;
  instanceId: string;
  /** The partitions that have work (sites), of `0..partitions-1`. */
  partitions: readonly number[];
  checkMs: number;
  leaseMs: number;
  leader: Role;
  partition: (n: number) => Role;
  log: Logger;
}

export interface ClusterStats {
  instanceId: string;
  connected: boolean;
  leader: boolean;
  members: number;
  partitions: number[];
  /** When this instance last became leader (epoch ms), null while it is not. */
  leaderSince: number | null;
  /** How often this instance became leader since it started. */
  leaderTerms: number;
}

/**
 * Who does what among several instances, by PostgreSQL advisory locks held on one connection of
 * each instance's own (session locks: PostgreSQL frees them when the connection ends, so a
 * killed instance's roles are free at once, and a host that vanished is ended after
 * `leaseMs` of silence by `idle_session_timeout`).
 *
 * - The **leader** lock: the one instance that runs the SLA scheduler and the notification
 *   consumers.
 * - A lock per **site partition**: the one instance that consumes the partition's sites. Each
 *   instance takes its fair share, ⌈partitions with sites / instances⌉, counting the instances
 *   by their lock connections; one over its share hands partitions back (stops consuming, then
 *   unlocks), and the others take them at their next check.
 *
 * A check runs every `checkMs`. A query that fails or does not answer within a third of the lease
 * ends the connection, and every role is released at once as lost: the instance stops acting well
 * before PostgreSQL frees its locks for another.
 */
export class ClusterCoordinator implements Service {
  readonly name = 'cluster';
  readonly #deps: ClusterDeps;
  #client: pg.Client | undefined;
  #leader = false;
  readonly #owned = new Map<number, Role>();
  #members = 1;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> = Promise.resolve();
  #running = false;
  #leaderSince: number | null = null;
  /**
   * Bumped when the lock connection is lost. A role taken while it was lost (its acquire was
   * still running) is given up at once instead of being kept without its lock.
   */
  #epoch = 0;
  #leaderTerms = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #beating = false;

  constructor(deps: ClusterDeps) {
    this.#deps = deps;
  }

  stats(): ClusterStats {
    return {
      instanceId: this.#deps.instanceId,
      connected: this.#client !== undefined,
      leader: this.#leader,
      members: this.#members,
      partitions: [...this.#owned.keys()].sort((a, b) => a - b),
      leaderSince: this.#leaderSince,
      leaderTerms: this.#leaderTerms,
    };
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Resolves after the first check: a lone instance leads and consumes every partition by then. */
  async start(): Promise<void> {
    this.#running = true;
    // Keeps the lock connection busy while a role takes long to start or stop (a broker that is
    // slow to answer), so that PostgreSQL never ends it as silent meanwhile.
    this.#heartbeat = setInterval(() => this.#beat(), this.#deps.checkMs);
    await this.#serially(() => this.#check());
    this.#schedule();
  }

  /** Hands every role back (partitions first, so their sessions are drained), then unlocks. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    await this.#serially(async () => {
      const client = this.#client;
      await this.#releaseAll(false);
      this.#client = undefined;
      if (client) await client.end().catch(() => {});
    });
  }

  /**
   * Checks, hand-overs and releases run one after the other: a partition is never taken again
   * while its release (after a lost connection) is still draining.
   */
  #serially(work: () => Promise<void>): Promise<void> {
    const next = this.#checking.then(work).catch((err: unknown) => {
      this.#deps.log.error({ err }, 'cluster step failed');
    });
    this.#checking = next;
    return next;
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      void this.#serially(() => this.#check()).finally(() => this.#schedule());
    }, this.#deps.checkMs);
  }

  #beat(): void {
    const client = this.#client;
    if (!client || this.#beating) return;
    this.#beating = true;
    client
      .query('SELECT 1')
      .catch((err: unknown) => this.#connectionLost(client, err))
      .finally(() => {
        this.#beating = false;
      });
  }

  async #check(): Promise<void> {
    try {
      const client = this.#client ?? (await this.#connect());
      await this.#checkLeader(client);
      await this.#balance(client);
    } catch (err) {
      this.#deps.log.error({ err }, 'cluster check failed; giving up every role until PostgreSQL answers');
      this.#dropConnection();
      await this.#releaseAll(true);
    }
  }

  async #connect(): Promise<pg.Client> {
    const { leaseMs, instanceId, url } = this.#deps;
    const client = new pg.Client({
      connectionString: url,
      application_name: `${APP_PREFIX}${instanceId}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      query_timeout: Math.max(500, Math.floor(leaseMs / 3)),
      connectionTimeoutMillis: Math.max(1000, Math.floor(leaseMs / 3)),
    });
    client.on('error', (err) => this.#connectionLost(client, err));
    try {
      await client.connect();
      // A lock connection silent this long is ended by PostgreSQL, freeing its locks (PostgreSQL 14+).
      await client.query(`SET idle_session_timeout = ${Math.round(leaseMs)}`);
    } catch (err) {
      // Not one of the instances counted by the others while it is half set up.
      client.end().catch(() => {});
      throw err;
    }
    this.#client = client;
    this.#deps.log.info({ instanceId }, 'cluster lock connection open');
    return client;
  }

  /**
   * The lock connection failed outside a check (its 'error', a heartbeat): nothing new is taken
   * from now on (the epoch), and every role is given up as lost at the next step in line.
   */
  #connectionLost(client: pg.Client, err: unknown): void {
    if (this.#client !== client) return;
    this.#deps.log.error({ err }, 'cluster lock connection lost; giving up every role');
    this.#dropConnection();
    void this.#serially(() => this.#releaseAll(true));
  }

  #dropConnection(): void {
    this.#epoch++;
    const client = this.#client;
    this.#client = undefined;
    // Not awaited: over a silent network the goodbye would wait as long as the roles would.
    client?.end().catch(() => {});
  }

  async #releaseAll(lost: boolean): Promise<void> {
    for (const n of [...this.#owned.keys()]) await this.#releasePartition(n, lost);
    if (this.#leader) await this.#releaseLeader(lost);
  }

  async #checkLeader(client: pg.Client): Promise<void> {
    if (this.#leader) {
      // Proves the connection (and so the lock) is still there.
      await client.query('SELECT 1');
      return;
    }
    const epoch = this.#epoch;
    if (!(await tryLock(client, LEADER)) || epoch !== this.#epoch) return;
    this.#leader = true;
    this.#leaderSince = Date.now();
    this.#leaderTerms++;
    this.#deps.log.info({ instanceId: this.#deps.instanceId }, 'became the cluster leader');
    try {
      await this.#deps.leader.acquire();
    } catch (err) {
      this.#deps.log.error({ err }, 'could not start the leader role; handing it back');
      await this.#releaseLeader(epoch !== this.#epoch);
      return;
    }
    // The connection went while the role was starting: the lock went with it.
    if (epoch !== this.#epoch && this.#leader) await this.#releaseLeader(true);
  }

  async #releaseLeader(lost: boolean): Promise<void> {
    this.#leader = false;
    this.#leaderSince = null;
    try {
      await this.#deps.leader.release(lost);
    } catch (err) {
      this.#deps.log.error({ err }, 'error while giving up the leader role');
    }
    if (!lost && this.#client) await unlock(this.#client, LEADER).catch(() => {});
    this.#deps.log.info({ instanceId: this.#deps.instanceId, lost }, 'no longer the cluster leader');
  }

  async #balance(client: pg.Client): Promise<void> {
    const { partitions } = this.#deps;
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1`,
      [`${APP_PREFIX}%`],
    );
    this.#members = Math.max(1, Number(rows[0]?.n ?? 1));
    const share = Math.ceil(partitions.length / this.#members);
    // Over the share: hand back the last ones (an instance that joined takes them).
    for (const n of [...this.#owned.keys()].sort((a, b) => b - a)) {
      if (this.#owned.size <= share) break;
      await this.#releasePartition(n, false);
    }
    if (this.#owned.size >= share) return;
    // Start at a place of one's own, so that instances starting together try different ones first.
    const start = hash(this.#deps.instanceId) % Math.max(1, partitions.length);
    for (let i = 0; i < partitions.length && this.#owned.size < share; i++) {
      const n = partitions[(start + i) % partitions.length] as number;
      const epoch = this.#epoch;
      if (this.#owned.has(n) || !(await tryLock(client, n)) || epoch !== this.#epoch) continue;
      const role = this.#deps.partition(n);
      try {
        await role.acquire();
      } catch (err) {
        this.#deps.log.error({ err, partition: n }, 'could not take the partition; handing it back');
        await role.release(false).catch(() => {});
        if (epoch === this.#epoch) await unlock(client, n);
        continue;
      }
      if (epoch !== this.#epoch) {
        // The connection went while the partition was being taken: its lock went with it.
        await role.release(true).catch(() => {});
        return;
      }
      this.#owned.set(n, role);
      this.#deps.log.info({ partition: n, instanceId: this.#deps.instanceId }, 'consuming partition');
    }
  }

  async #releasePartition(n: number, lost: boolean): Promise<void> {
    const role = this.#owned.get(n);
    this.#owned.delete(n);
    try {
      await role?.release(lost);
    } catch (err) {
      this.#deps.log.error({ err, partition: n }, 'error while handing the partition back');
    }
    if (!lost && this.#client) await unlock(this.#client, n).catch(() => {});
    this.#deps.log.info({ partition: n, lost }, 'partition handed back');
  }
}

async function tryLock(client: pg.Client, n: number): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
    LOCK_SPACE,
    n,
  ]);
  return rows[0]?.ok === true;
}

async function unlock(client: pg.Client, n: number): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_SPACE, n]);
}

/** FNV-1a, 32 bits: a site's partition, the same in every instance and every version. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function partitionOf(site: string, partitions: number): number {
  return hash(site) % partitions;
}
