import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

/**
 * CPU time and memory of any process by pid, read from /proc (Linux), so the node process under
 * test, Mosquitto and influxd are measured the same way.
 */
export interface ProcSample {
  at: number;
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

/** CLOCK_MONOTONIC is one clock for every process on the machine: latencies can cross processes. */
export const hrMicros = (): number => Number(process.hrtime.bigint() / 1000n);

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces [proc(5)].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { at: performance.now(), cpuSeconds: (utime + stime) / ticksPerSecond(), rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples, in % of one core (a multi-threaded process may exceed 100). */
export function cpuPercent(before: ProcSample | undefined, after: ProcSample | undefined): number {
  if (!before || !after || after.at <= before.at) return Number.NaN;
  return ((after.cpuSeconds - before.cpuSeconds) * 100_000) / (after.at - before.at);
}

export interface MachineInfo {
  date: string;
  cores: number;
  model: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  os: string;
  mosquitto: string;
  influxd: string;
  loadAverage: string;
}

function firstLine(cmd: string, args: string[]): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0]?.trim() ?? '';
  } catch (err) {
    const stdout = (err as { stdout?: string }).stdout ?? '';
    return stdout.split('\n')[0]?.trim() || 'not installed';
  }
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  return {
    date: firstLine('date', []),
    cores: Number(firstLine('nproc', [])) || cpus().length,
    model: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    os: /PRETTY_NAME="([^"]*)"/.exec(osRelease)?.[1] ?? 'Linux',
    mosquitto: firstLine('mosquitto', ['-h']),
    influxd: firstLine('influxd', ['version']),
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

/** The pid of a process whose command line contains `needle` (e.g. a private config file path). */
export function findPid(needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(needle)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

/** CPU time of the whole machine so far, in seconds (all cores added up), from /proc/stat. */
export function machineCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / ticksPerSecond();
}

/** CPU seconds so far of every process whose name (`/proc/<pid>/comm`) is `name`, by pid. */
export function cpuByName(name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== name) continue;
      const s = sampleProc(Number(entry));
      if (s) out.set(Number(entry), s.cpuSeconds);
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/**
 * CPU of a group of processes between two `cpuByName` readings, % of one core: processes in
 * both count in full, those that started in between count from zero.
 */
export function groupCpuPercent(
  before: Map<number, number>,
  after: Map<number, number>,
  elapsedMs: number,
): number {
  let seconds = 0;
  for (const [pid, s] of after) seconds += s - (before.get(pid) ?? 0);
  return elapsedMs > 0 ? (seconds * 100_000) / elapsedMs : Number.NaN;
}
