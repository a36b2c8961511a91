import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LimitsOverride } from './broker.ts';

export interface BrokerProcess {
  pid: number;
  port: number;
  /** Topics of the messages the broker recorded, in order. */
  recorded: string[];
  /** Resident set size now, from /proc (Linux), in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

const MAIN = path.resolve(import.meta.dirname, 'broker-main.ts');

/** Starts the embedded broker (example config, loopback, ephemeral port) in a process of its own. */
export function spawnBroker(limits: LimitsOverride = {}): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(limits)], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const recorded: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const msg = JSON.parse(line) as { port?: number; recorded?: string };
        if (msg.recorded !== undefined) recorded.push(msg.recorded);
        if (msg.port !== undefined && child.pid !== undefined)
          resolve({
            pid: child.pid,
            port: msg.port,
            recorded,
            rssBytes: () => rssOf(child.pid as number),
            stop: () => {
              child.kill('SIGTERM');
              return exited;
            },
          });
      }
    });
    void exited.then(() => reject(new Error('the broker process exited before listening')));
  });
}

function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}
