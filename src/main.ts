import { parseArgs } from 'node:util';
import { App } from './app.ts';
import { type ConfigEnv, loadConfig } from './config/load.ts';
import { XiaoerError } from './core/errors.ts';
import { createLogger } from './core/logger.ts';

const EXIT_CONFIG = 78; // EX_CONFIG from sysexits.h

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } }, strict: true });
  const env = process.env as ConfigEnv;
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(values.config, env);
  } catch (err) {
    console.error(`xiaoer: ${(err as Error).message}`);
    process.exit(EXIT_CONFIG);
  }
  const log = createLogger(loaded.config.logLevel, {
    format: loaded.config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
  });
  log.info({ config: loaded.source }, 'configuration loaded');
  const app = new App({ config: loaded.config, log });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining in-flight messages');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const printGeneratedPassword = () => {
    if (!app.generatedAdminPassword) return;
    console.error(
      `\n  First start: user "admin" was created with password  ${app.generatedAdminPassword}\n` +
        '  It is shown only this once. Set XIAOER_ADMIN_PASSWORD to choose it yourself.\n',
    );
  };
  try {
    await app.start();
  } catch (err) {
    // The admin is created only once every port is bound, so a failed start has none to print.
    if (err instanceof XiaoerError) {
      console.error(`xiaoer: ${err.message}`);
      process.exit(err.code === 'port_in_use' ? 1 : EXIT_CONFIG);
    }
    throw err;
  }
  printGeneratedPassword();
}

main().catch((err: unknown) => {
  console.error('xiaoer: fatal error', err);
  process.exit(1);
});
