import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';

/**
 * Request/response over a forked child's IPC channel. The process under test and the load
 * generator each run in their own process, so each gets a core of the 2-core machine and its
 * CPU time can be read from /proc.
 */
interface Request {
  id: number;
  method: string;
  params?: unknown;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

export class RpcChild {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  #next = 1;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  /** `nodeArgs`: extra Node options, e.g. `--cpu-prof` to profile the process under test. */
  constructor(
    script: string,
    name: string,
    nodeArgs: readonly string[] = [],
    env: Record<string, string> = {},
  ) {
    this.name = name;
    const fromSources = env.XIAOER_BENCH_SOURCE === 'ts' || process.env.XIAOER_BENCH_SOURCE === 'ts';
    this.child = fork(fromSources ? path.resolve(import.meta.dirname, script) : compiled(script), [], {
      execArgv: fromSources ? ['--import', 'tsx', ...nodeArgs] : ['--enable-source-maps', ...nodeArgs],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: Reply) => {
      const pending = this.#pending.get(m.id);
      if (!pending) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) pending.reject(new Error(`${name}: ${m.error}`));
      else pending.resolve(m.result);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        for (const p of this.#pending.values()) p.reject(new Error(`${name} exited (${code ?? signal})`));
        this.#pending.clear();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  call<T>(method: string, params?: unknown, timeoutMs = 180_000): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}.${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, method, params } satisfies Request);
    });
  }

  /** Asks the child to stop, and kills it (this child only, by its pid) if it does not exit. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.call('stop', undefined, timeoutMs).catch(() => undefined);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(killer);
  }
}

const BENCH_BUILD = path.resolve(import.meta.dirname, '../build-bench');

/**
 * The processes under test and the generator run compiled (tsconfig.bench.json, built by
 * `buildBench()` when a run starts), as `npm start` runs xiaoer: through tsx they would carry its
 * module-loader thread (tens of MiB of RSS) and its transforms. `XIAOER_BENCH_SOURCE=ts` runs the
 * sources through tsx instead (the "before" of issue 14).
 */
function compiled(script: string): string {
  return path.join(BENCH_BUILD, 'bench', script.replace(/\.ts$/, '.js'));
}

/** Compiles the bench's child processes and what they import into build-bench/. */
export function buildBench(): void {
  const tsc = path.resolve(import.meta.dirname, '../node_modules/typescript/bin/tsc');
  rmSync(BENCH_BUILD, { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', path.resolve(import.meta.dirname, '../tsconfig.bench.json')], {
    stdio: 'inherit',
  });
}

type Handler = (params: never) => unknown;

/** The child's side: answers requests by method name; `stop` replies, then the process exits. */
export function serveRpc(handlers: Record<string, Handler>): void {
  process.on('message', (m: Request) => {
    const handler = handlers[m.method];
    const reply = (r: Omit<Reply, 'id'>) => process.send?.({ id: m.id, ...r });
    if (!handler) {
      reply({ error: `unknown method ${m.method}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(m.params as never))
      .then(
        (result) => {
          reply({ result: result ?? null });
          if (m.method === 'stop') setTimeout(() => process.exit(0), 50);
        },
        (err: unknown) => reply({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  // The parent going away (Ctrl-C, crash) must not leave a broker or generator running.
  process.on('disconnect', () => process.exit(0));
}
