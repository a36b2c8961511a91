import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AuthService } from './auth/auth-service.ts';
import { type ConfigEnv, loadConfig } from './config/load.ts';
import { systemClock } from './core/clock.ts';
import { XiaoerError } from './core/errors.ts';
import { openStore } from './store/open-store.ts';

const EXIT_USAGE = 64; // EX_USAGE from sysexits.h
const EXIT_CONFIG = 78;

const USAGE = `usage: npm run admin -- <command> [--config <file>]

commands:
  reset-password <user> [--password <new password>]
      sets a new password (generated and printed when not given) and logs the user out everywhere
  list-users
      user names, roles and whether they are disabled

The same configuration as \`npm start\` is read (--config, else XIAOER_CONFIG, else config/example.yaml),
so the same database is changed. It is safe while xiaoer is running.`;

/** Administration from the server's shell, for when nobody can log in (a lost admin password). */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      password: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.error(USAGE);
    return values.help ? 0 : EXIT_USAGE;
  }
  let config: ReturnType<typeof loadConfig>['config'];
  try {
    config = loadConfig(values.config, process.env as ConfigEnv).config;
  } catch (err) {
    console.error(`xiaoer admin: ${(err as Error).message}`);
    return EXIT_CONFIG;
  }
  const store = openStore(config);
  try {
    await store.migrate();
    const auth = new AuthService({ store, clock: systemClock, tokenTtlHours: config.auth.tokenTtlHours });
    const actor = `cli:${userInfo().username}`;
    if (command === 'reset-password' && args.length === 1 && args[0]) {
      const { user, password } = await auth.resetPassword(args[0], actor, values.password);
      process.stdout.write(
        values.password === undefined
          ? `password of ${user.username} reset; new password: ${password}\n`
          : `password of ${user.username} set\n`,
      );
      return 0;
    }
    if (command === 'list-users' && args.length === 0) {
      for (const u of await store.listUsers()) {
        process.stdout.write(
          `${u.username}\t${u.role}\t${u.disabledAt === undefined ? 'active' : 'disabled'}\n`,
        );
      }
      return 0;
    }
    console.error(`xiaoer admin: unknown command or arguments: ${positionals.join(' ')}\n\n${USAGE}`);
    return EXIT_USAGE;
  } catch (err) {
    if (err instanceof XiaoerError) {
      console.error(`xiaoer admin: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('xiaoer admin: failed', err);
    process.exit(1);
  },
);
