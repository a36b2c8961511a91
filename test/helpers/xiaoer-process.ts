import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_PASSWORD, EXAMPLE_CONFIG } from './test-app.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The time-out of a test that starts xiaoer as a process, in place of vitest's 20 s. Each start
 * compiles the sources with tsx and opens SQLite, the broker and the API: about 1.5 s on an idle
 * 2-core machine, several times that while another test suite runs beside it. A safety net for a
 * process that never comes up: the tests wait on its log lines and exit, never on a clock.
 */
export const XIAOER_PROCESS_TEST_TIMEOUT_MS = 120_000;

export interface XiaoerProcess {
  child: ChildProcess;
  /** stdout and stderr so far, whole lines in the order they arrived. */
  output(): string;
  /** Resolves with the ports from the "xiaoer started" log line; rejects if the process exits first. */
  started: Promise<{ http: number; mqtt: number }>;
  /** Resolves once the process has exited *and* its stdout and stderr are read to the end. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Resolves with the first match of `pattern` (not global) in the output, at once if it is
   * already there; rejects if the process exits without printing it.
   */
  waitForOutput(pattern: RegExp): Promise<RegExpExecArray>;
}

/** The example config bound to loopback, written next to the test's data directory. */
export function loopbackConfig(dir: string): string {
  const file = path.join(dir, 'config.yaml');
  const example = readFileSync(EXAMPLE_CONFIG, 'utf8').replaceAll('host: 0.0.0.0', 'host: 127.0.0.1');
  // Nobody checks in in these tests: their tickets would escalate at once.
  writeFileSync(file, `${example}\nshifts:\n  escalateWhenUnstaffed: false\n`);
  return file;
}

/** Runs xiaoer as its own process, so it can be killed for real (from its sources unless told). */
export function spawnXiaoer(opts: {
  config: string;
  dataDir: string;
  env?: Record<string, string>;
  /** How node runs xiaoer: its TypeScript sources through tsx (the default), or `compiled`: the
   * JavaScript `npm run build` wrote to build/, as `npm start` runs it. */
  from?: 'sources' | 'compiled';
}): XiaoerProcess {
  const entry =
    opts.from === 'compiled'
      ? ['--enable-source-maps', 'build/src/main.js']
      : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, [...entry, '--config', opts.config], {
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
  const onOutput = new Set<() => void>();
  // 'close', not 'exit': 'exit' can come before the last output is read, and a test that reads
  // output() once the process is gone would miss it on a busy machine.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let onStarted: (ports: { http: number; mqtt: number }) => void = () => {};
  const started = new Promise<{ http: number; mqtt: number }>((resolve, reject) => {
    onStarted = resolve;
    void exited.then(({ code, signal }) =>
      reject(new Error(`xiaoer exited (${code ?? signal}) before starting:\n${out}`)),
    );
  });
  started.catch(() => {});

  const onLine = (line: string) => {
    out += `${line}\n`;
    const ports = startedPorts(line);
    if (ports) onStarted(ports);
    for (const check of onOutput) check();
  };
  // A chunk of a pipe can end inside a line (or inside a UTF-8 character): lines are cut per
  // stream, and stdout and stderr are only interleaved line by line.
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    stream?.on('end', () => {
      if (partial) onLine(partial);
      partial = '';
    });
  }

  const waitForOutput = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(out);
        if (!match) return;
        onOutput.delete(check);
        resolve(match);
      };
      onOutput.add(check);
      check();
      void exited.then(() => {
        if (onOutput.delete(check)) reject(new Error(`xiaoer exited without printing ${pattern}:\n${out}`));
      });
    });
  return { child, output: () => out, started, exited, waitForOutput };
}

/** The ports of pino's "xiaoer started" line (src/app.ts), or undefined for any other line. */
function startedPorts(line: string): { http: number; mqtt: number } | undefined {
  if (!line.includes('"xiaoer started"')) return undefined;
  let parsed: { msg?: string; http?: string; mqtt?: number };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return undefined;
  }
  if (parsed.msg !== 'xiaoer started' || !parsed.http || parsed.mqtt === undefined) return undefined;
  return { http: Number(new URL(parsed.http).port), mqtt: parsed.mqtt };
}
