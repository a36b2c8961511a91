/**
 * One simulation run against a running xiaoer, shared by `simulate` and `demo`: the device
 * simulator, the ticket feed (when an admin password is known), the simulated maintainers, and the
 * progress line, started in that order and stopped in reverse.
 */
import { ApiClient } from './api-client.ts';
import type { CommonOptions } from './cli-options.ts';
import { MaintainerBot } from './maintainers.ts';
import type { Population } from './population.ts';
import { Progress } from './progress.ts';
import { type BmsSink, type RunnerOptions, SimulatorRunner } from './runner.ts';
import { TicketFeed } from './ticket-feed.ts';
import { formatTicketLine } from './ticket-lines.ts';

export interface SessionOptions extends CommonOptions {
  population: Population;
  mqttUrl: string;
  apiUrl: string;
  adminPassword?: string;
  bms?: BmsSink;
  /** Print a line per injected fault (simulate) and/or per ticket change (demo). */
  printFaults: boolean;
  printTickets: boolean;
  /** Told about every fault that starts or clears (tests, tools). */
  onFault?: RunnerOptions['onFault'];
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface Session {
  progress: Progress;
  stop(): Promise<void>;
}

export async function startSession(opts: SessionOptions): Promise<Session> {
  const progress = new Progress({ stream: opts.stream, snapshot: () => snapshot() });
  const warn = (message: string) => progress.print(`warning: ${message}`);
  const runner = new SimulatorRunner({
    population: opts.population,
    seed: opts.seed,
    speed: opts.speed,
    faultsPerHour: opts.faultsPerHour,
    mqttUrl: opts.mqttUrl,
    ...(opts.bms ? { bms: opts.bms } : {}),
    onWarning: warn,
    onFault: (f) => {
      opts.onFault?.(f);
      if (!opts.printFaults) return;
      const verb = f.phase === 'start' ? 'fault  ' : f.cause === 'repaired' ? 'repaired' : 'cleared';
      progress.print(
        `${verb} ${f.site.padEnd(9)} ${f.device.id.padEnd(28)} ${f.fault.ticket} (${f.device.name})`,
      );
    },
  });
  await runner.start();
  const stops: (() => Promise<void> | void)[] = [() => runner.stop()];
  let feed: TicketFeed | undefined;
  let bot: MaintainerBot | undefined;
  try {
    if (opts.adminPassword) ({ feed, bot } = await followTickets(opts, runner, progress, warn));
  } catch (err) {
    await runner.stop();
    throw err;
  }
  if (feed) stops.push(() => feed?.stop());
  if (bot) stops.push(() => bot?.stop());
  const snapshot = () => ({
    speed: opts.speed,
    simulatedMs: runner.simulatedMs,
    messages: runner.stats.messages,
    faultsStarted: runner.stats.faultsStarted,
    activeFaults: runner.activeFaults,
    ...(feed ? { tickets: { ...feed.stats, seen: feed.stats.ticketsSeen } } : {}),
    ...(bot ? { maintainerActions: bot.stats.actions } : {}),
  });
  progress.start();
  return {
    progress,
    async stop() {
      for (const stop of stops.reverse()) await stop();
      progress.stop();
    },
  };
}

async function followTickets(
  opts: SessionOptions,
  runner: SimulatorRunner,
  progress: Progress,
  warn: (message: string) => void,
): Promise<{ feed: TicketFeed; bot: MaintainerBot | undefined }> {
  const api = new ApiClient(opts.apiUrl);
  const adminToken = await api.login('admin', opts.adminPassword ?? '');
  let bot: MaintainerBot | undefined;
  let token = adminToken;
  if (opts.maintainers) {
    bot = new MaintainerBot({
      api,
      adminToken,
      sites: opts.sites,
      perSite: opts.maintainersPerSite,
      seed: opts.seed,
      lateShare: opts.lateShare,
      onRepaired: (site, assetId) => runner.repaired(site, assetId),
      onWarning: warn,
    });
    token = await bot.setup();
    bot.start();
  }
  const feed = new TicketFeed({
    api,
    token,
    renewToken: () => (bot ? bot.renewDesk() : api.login('admin', opts.adminPassword ?? '')),
    onWarning: warn,
    onTicket: (ticket, event) => {
      if (opts.printTickets && event) {
        const line = formatTicketLine(ticket, event);
        if (line) progress.print(line);
      }
      bot?.onTicket(ticket, event);
    },
  });
  feed.start();
  return { feed, bot };
}
