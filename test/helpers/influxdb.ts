import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface RunningInfluxd {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM, SIGKILL after 10 s) and keeps its data; `restart()` brings it back. */
  halt(): Promise<void>;
  /** Halts if running, then starts again on the same port and data directory. */
  restart(): Promise<void>;
  /** Halts and removes the directory if this helper created it. */
  stop(): Promise<void>;
  /**
   * SIGSTOP / SIGCONT: the port stays open but nothing answers (a hung server, not a dead one).
   * Each resolves once every thread of the server is stopped / running again: a stop takes effect
   * when the kernel next schedules each thread, and on a busy machine influxd was seen to answer
   * a write 10 ms after `kill` had returned.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

const INFLUXD = process.env.INFLUXD_BIN ?? 'influxd';

/**
 * Every listener influxd 1.6 opens, moved off its default port (`influxd config` lists them):
 * the HTTP API (8086) and the RPC service used by backup/restore (top-level `bind-address`,
 * 8088). The graphite/collectd/opentsdb/udp inputs and ifql are disabled by default and are
 * not declared, so none of them listens. Usage reporting and the `_internal` monitor database
 * are switched off so a test run talks to nobody and writes nothing it did not ask for.
 */
function influxdConfig(dir: string, httpPort: number, rpcPort: number): string {
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = "${dir}/meta"`,
    '[data]',
    `  dir = "${dir}/data"`,
    `  wal-dir = "${dir}/wal"`,
    '  query-log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '[subscriber]',
    '  enabled = false',
    '[http]',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    '  log-enabled = false',
    '[ifql]',
    '  enabled = false',
    '[logging]',
    '  level = "warn"',
    '',
  ].join('\n');
}

/** A private influxd (InfluxDB 1.x) on free ports in its own directory; waits for `/ping` 204. */
export async function startInfluxd(opts: { dir?: string; port?: number } = {}): Promise<RunningInfluxd> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'xiaoer-influxd-'));
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const rpcPort = await freePort();
  const conf = path.join(dir, 'influxdb.conf');
  writeFileSync(conf, influxdConfig(dir, port, rpcPort));
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const launch = async () => {
    const proc = spawn(INFLUXD, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'ENOENT'
            ? new Error(
                `influxd (InfluxDB 1.x) is not installed: run \`bash scripts/ensure-services.sh\` ` +
                  '(`npm test` does it in pretest) or set INFLUXD_BIN',
              )
            : err,
        ),
      );
      proc.once('exit', (code) => reject(new Error(`influxd exited with ${code}: ${stderr}`)));
    });
    failed.catch(() => undefined);
    const up = await Promise.race([
      failed,
      waitForPing(url, () => proc.exitCode === null && proc.pid !== undefined),
    ]);
    // Gone before answering: `failed` says why (not installed, or its exit code and stderr).
    if (!up) await failed;
  };

  const halt = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    proc.kill('SIGCONT'); // a paused server would not see the SIGTERM
    const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };

  try {
    await launch();
  } catch (err) {
    await halt();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dir,
    halt,
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
    pause: () => signalAndWait(child, 'SIGSTOP', true),
    resume: () => signalAndWait(child, 'SIGCONT', false),
  };
}

/** Sends `signal`, then waits until every thread of the process is (not) in the stopped state. */
async function signalAndWait(
  proc: ChildProcess | undefined,
  signal: 'SIGSTOP' | 'SIGCONT',
  stopped: boolean,
): Promise<void> {
  const pid = proc?.pid;
  if (!proc || pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill(signal);
  await waitFor(() => (threadsStopped(pid) === stopped ? true : undefined), {
    intervalMs: 2,
    what: `influxd ${stopped ? 'stopped' : 'running again'} after ${signal}`,
  });
}

/** Whether every thread of `pid` is stopped by a signal (state T in /proc/<pid>/task/<tid>/stat). */
function threadsStopped(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // "tid (comm) S ...": the state follows the command name, which may itself hold ") ".
    return stat[stat.lastIndexOf(')') + 2] === 'T';
  });
}

/**
 * Polls `/ping` until 204; gives up quietly once the process is gone (the exit is reported). The
 * time-out is a safety net for a server that never answers: influxd opens its stores before it
 * listens, in well under a second alone, in seconds on a machine busy with another test suite.
 */
async function waitForPing(url: string, alive: () => boolean): Promise<boolean> {
  return waitFor(
    async () => {
      if (!alive()) return false;
      const res = await fetch(`${url}/ping`).catch(() => undefined);
      return res?.status === 204 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50, what: `influxd on ${url}` },
  );
}
