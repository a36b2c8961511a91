import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_PASSWORD, EXAMPLE_CONFIG } from './test-app.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface XiaoerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the ports from the "xiaoer started" log line. */
  started: Promise<{ http: number; mqtt: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The example config bound to loopback, written next to the test's data directory. */
export function loopbackConfig(dir: string): string {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, readFileSync(EXAMPLE_CONFIG, 'utf8').replaceAll('host: 0.0.0.0', 'host: 127.0.0.1'));
  return file;
}

/** Runs xiaoer exactly as `npm start` does, as its own process, so it can be killed for real. */
export function spawnXiaoer(opts: {
  config: string;
  dataDir: string;
  env?: Record<string, string>;
}): XiaoerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', opts.config], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATA_DIR: opts.dataDir,
      PORT: '0',
      MQTT_PORT: '0',
      XIAOER_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'info',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const started = new Promise<{ http: number; mqtt: number }>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('"xiaoer started"')) continue;
        const parsed = JSON.parse(line) as { http: string; mqtt: number };
        resolve({ http: Number(new URL(parsed.http).port), mqtt: parsed.mqtt });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(({ code, signal }) =>
      reject(new Error(`xiaoer exited (${code ?? signal}) before starting:\n${out}`)),
    );
  });
  started.catch(() => {});
  return { child, output: () => out, started, exited };
}
