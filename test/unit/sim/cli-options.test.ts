import { describe, expect, it } from 'vitest';
import {
  parseDemoArgs,
  parseSimulateArgs,
  type SimulateOptions,
  UsageError,
} from '../../../sim/cli-options.ts';
import { formatProgress } from '../../../sim/progress.ts';

const options = (argv: string[], env = {}): SimulateOptions => {
  const parsed = parseSimulateArgs(argv, env);
  if (parsed.help) throw new Error('help');
  return parsed.options;
};

describe('simulate flags', () => {
  it('defaults to a local xiaoer, real time and the default population', () => {
    const o = options([]);
    expect(o).toMatchObject({
      mqttUrl: 'mqtt://127.0.0.1:1883',
      apiUrl: 'http://127.0.0.1:8080',
      speed: 1,
      faultsPerHour: 30,
      counts: { lock: 40, hvac: 20, plumbing: 30, lighting: 10, other: 6 },
      sites: ['xincheng', 'north', 'east'],
      maintainers: false,
    });
    expect(o.seed).toMatch(/^[0-9a-f]{6}$/);
    expect(o.adminPassword).toBeUndefined();
  });

  it('reads the flags and the admin password from the environment', () => {
    const o = options(
      [
        '--seed',
        'abc',
        '--speed',
        '20',
        '--locks',
        '4',
        '--sites',
        'north',
        '--maintainers',
        '--duration',
        '30',
      ],
      { XIAOER_ADMIN_PASSWORD: 'secret-pw' },
    );
    expect(o).toMatchObject({
      seed: 'abc',
      speed: 20,
      sites: ['north'],
      maintainers: true,
      durationSeconds: 30,
    });
    expect(o.counts.lock).toBe(4);
    expect(o.adminPassword).toBe('secret-pw');
  });

  it.each([
    [['--speed', 'fast'], '--speed: expected a number from 0.1 to 1000, got "fast"'],
    [['--speed', '0'], '--speed: expected a number from 0.1 to 1000, got "0"'],
    [['--locks', '2.5'], '--locks: expected a whole number from 0 to 2000, got "2.5"'],
    [['--sites', 'xincheng,mars'], '--sites: unknown site "mars" (known: xincheng, north, east)'],
    [
      ['--mqtt-url', 'http://x'],
      '--mqtt-url: expected mqtt:// or mqtts:// or ws:// or wss://, got "http://x"',
    ],
    [['--api-url', 'nope'], '--api-url: not a URL: "nope"'],
    [['--late-share', '2'], '--late-share: expected a number from 0 to 1, got "2"'],
    [['--maintainers'], '--maintainers needs the admin password: --admin-password or XIAOER_ADMIN_PASSWORD'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['extra'], "Unexpected argument 'extra'"],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseSimulateArgs(argv)).toThrow(UsageError);
    expect(() => parseSimulateArgs(argv)).toThrow(message);
  });

  it('answers --help', () => {
    expect(parseSimulateArgs(['--help'])).toEqual({ help: true });
    expect(parseDemoArgs(['-h'])).toEqual({ help: true });
  });
});

describe('demo flags', () => {
  it('defaults to a lively board: 10x, maintainers and BMS on', () => {
    const parsed = parseDemoArgs([]);
    if (parsed.help) throw new Error('help');
    expect(parsed.options).toMatchObject({
      speed: 10,
      faultsPerHour: 60,
      maintainers: true,
      bms: true,
      keepData: false,
    });
    const off = parseDemoArgs(['--no-bms', '--no-maintainers', '--log-level', 'warn']);
    if (off.help) throw new Error('help');
    expect(off.options).toMatchObject({ maintainers: false, bms: false, logLevel: 'warn' });
    expect(() => parseDemoArgs(['--log-level', 'loud'])).toThrow('--log-level: expected one of');
  });
});

describe('progress line', () => {
  it('shows rate and counts', () => {
    const line = formatProgress(
      {
        speed: 10,
        simulatedMs: 600_000,
        messages: 12_345,
        faultsStarted: 9,
        activeFaults: 4,
        tickets: { seen: 8, open: 5, breaches: 2 },
        maintainerActions: 17,
      },
      41.23,
      60_000,
    );
    expect(line).toBe(
      '00:01:00 (simulated 00:10:00, 10x) | 12,345 msgs 41.2 msg/s | faults 9 (4 active) | ' +
        'tickets 8 seen, 5 open, 2 SLA breaches | maintainers 17 actions',
    );
  });
});
