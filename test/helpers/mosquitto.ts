import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface RunningMosquitto {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const MOSQUITTO = process.env.MOSQUITTO_BIN ?? 'mosquitto';

/**
 * A private Mosquitto on a free port with its own config and data directory, so the one the
 * machine may run on 1883 is never touched.
 */
export async function startMosquitto(
  opts: { persistence?: boolean; extraConfig?: readonly string[] } = {},
): Promise<RunningMosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-mosquitto-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      ...(opts.persistence === false
        ? ['persistence false']
        : ['persistence true', `persistence_location ${dir}/`]),
      ...(opts.extraConfig ?? []),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    () =>
      new Promise<true | undefined>((resolve) => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(undefined));
      }),
    { timeoutMs: 10_000, what: `mosquitto on port ${port}` },
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
