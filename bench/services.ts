import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/ports.ts';
import { waitFor } from '../test/helpers/wait.ts';

export { startInfluxd } from '../test/helpers/influxdb.ts';

export interface RunningMosquitto {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Debian's Mosquitto as the reference broker of scenario A, private on a free loopback port.
 * Unlike the test helper's it keeps nothing on disk, and it lifts the per-client limits of 20
 * QoS 1 messages in flight (which would make it measure the subscriber's round trip) and 1000
 * queued (beyond which it drops QoS 1 messages to a slow subscriber and so looks faster than it is).
 */
export async function startBenchMosquitto(): Promise<RunningMosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-bench-mosquitto-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_inflight_messages 0',
      'max_queued_messages 0',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(process.env.MOSQUITTO_BIN ?? 'mosquitto', ['-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    () =>
      new Promise<true | undefined>((resolve, reject) => {
        if (child.exitCode !== null) reject(new Error(`mosquitto exited: ${stderr}`));
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
    port,
    pid: child.pid ?? 0,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
