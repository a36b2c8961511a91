import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterCoordinator, type Role } from '../../src/cluster/coordinator.ts';
import { silentLog } from '../helpers/domain.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait.ts';

/** Who holds which role right now, as the roles themselves saw it (acquired and not released). */
class Holdings {
  readonly leaders = new Set<string>();
  readonly partitions = new Map<number, Set<string>>();
  /** Moments two instances held the same role at once. */
  readonly overlaps: string[] = [];

  role(instance: string, what: number | 'leader', startMs = 0): Role {
    const holders = () => {
      if (what === 'leader') return this.leaders;
      const set = this.partitions.get(what) ?? new Set<string>();
      this.partitions.set(what, set);
      return set;
    };
    return {
      acquire: async () => {
        if (startMs > 0) await new Promise((resolve) => setTimeout(resolve, startMs));
        const set = holders();
        if (set.size > 0) this.overlaps.push(`${what}: ${[...set].join(',')} and ${instance}`);
        set.add(instance);
      },
      release: async () => {
        holders().delete(instance);
      },
    };
  }

  partitionsOf(instance: string): number[] {
    return [...this.partitions].filter(([, set]) => set.has(instance)).map(([n]) => n);
  }
}

describe('cluster locks on a real PostgreSQL', () => {
  let db: TestDatabase;
  const running: ClusterCoordinator[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const coordinator = (
    holdings: Holdings,
    id: string,
    partitions: number[],
    url = db.url,
    opts: { leaseMs?: number; leaderStartMs?: number } = {},
  ) => {
    const c = new ClusterCoordinator({
      url,
      instanceId: id,
      partitions,
      checkMs: 50,
      leaseMs: opts.leaseMs ?? 3000,
      leader: holdings.role(id, 'leader', opts.leaderStartMs),
      partition: (n) => holdings.role(id, n),
      log: silentLog,
    });
    running.push(c);
    return c;
  };

  it('gives one instance the lead and every partition, then shares them fairly with a second', async () => {
    const h = new Holdings();
    const a = coordinator(h, 'a', [0, 1, 2, 3]);
    await a.start();
    expect(a.stats()).toMatchObject({ leader: true, partitions: [0, 1, 2, 3] });
    const b = coordinator(h, 'b', [0, 1, 2, 3]);
    await b.start();
    await waitFor(
      () => (h.partitionsOf('a').length === 2 && h.partitionsOf('b').length === 2 ? true : undefined),
      {
        what: 'two partitions each',
      },
    );
    expect(a.stats().members).toBe(2);
    expect([...h.leaders]).toEqual(['a']);
    expect(h.overlaps).toEqual([]);
  });

  it('keeps the lock of a leader whose role takes longer to start than the lease', async () => {
    const h = new Holdings();
    // The role starts in 3 s; PostgreSQL would end a lock connection silent for 1.5 s.
    const a = coordinator(h, 'a', [0], db.url, { leaseMs: 1500, leaderStartMs: 3000 });
    await a.start();
    // Its connection outlived the start (a heartbeat), so it leads in its first term still.
    expect(a.stats()).toMatchObject({ leader: true, connected: true, leaderTerms: 1, partitions: [0] });
    const b = coordinator(h, 'b', [0]);
    await b.start();
    expect(b.stats()).toMatchObject({ leader: false, partitions: [], members: 2 });
    expect([...h.leaders]).toEqual(['a']);
    expect(h.overlaps).toEqual([]);
  });

  it('hands the lead and partitions of an instance cut off from PostgreSQL to another, never to both at once', async () => {
    const h = new Holdings();
    const target = new URL(db.url);
    const proxy = await blackholeProxy(target.hostname, Number(target.port || 5432));
    try {
      const viaProxy = new URL(db.url);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const a = coordinator(h, 'a', [0, 1], viaProxy.toString());
      const b = coordinator(h, 'b', [0, 1]);
      await a.start();
      await b.start();
      await waitFor(() => (h.partitionsOf('b').length === 1 ? true : undefined), {
        what: 'b takes one partition',
      });
      // a's network to PostgreSQL goes silent: no error, no FIN, packets just go nowhere. a must give
      // its roles up (its checks time out after a third of the lease) before PostgreSQL ends the
      // silent session (the lease) and frees the locks for b.
      proxy.silence();
      await waitFor(() => (h.leaders.has('b') && h.partitionsOf('b').length === 2 ? true : undefined), {
        timeoutMs: 20_000,
        what: 'b leads and consumes both partitions',
      });
      expect(h.overlaps).toEqual([]);
      expect(h.partitionsOf('a')).toEqual([]);
      // The network comes back: a reconnects and takes its share back, b keeps the lead.
      proxy.restore();
      await waitFor(() => (h.partitionsOf('a').length === 1 ? true : undefined), {
        timeoutMs: 20_000,
        what: 'a back with one partition',
      });
      expect([...h.leaders]).toEqual(['b']);
      expect(h.overlaps).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

/** A TCP relay whose traffic can be made to vanish silently (a network partition, not a closed socket). */
async function blackholeProxy(host: string, port: number) {
  let silent = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (silent) return client.destroy();
    const upstream = tcpConnect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => silent || upstream.write(d));
    upstream.on('data', (d) => silent || client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    silence: () => {
      silent = true;
    },
    /** New connections work again; the silenced ones are dropped, as a router reboot would. */
    restore: () => {
      silent = false;
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
