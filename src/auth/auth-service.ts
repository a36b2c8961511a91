import type { Clock } from '../core/clock.ts';
import { XiaoerError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Role, User } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { LoginThrottle } from './login-throttle.ts';
import { generatePassword, hashPassword, hashToken, newToken, verifyPassword } from './passwords.ts';

export const unauthorized = (message = 'log in first: send Authorization: Bearer <token>') =>
  new XiaoerError('unauthorized', message, { httpStatus: 401 });

export const forbidden = (role: string, allowed: readonly Role[]) =>
  new XiaoerError('forbidden', `role ${role} may not do this (needs ${allowed.join(' or ')})`, {
    httpStatus: 403,
  });

export class AuthService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #tokenTtlMs: number;
  readonly #throttle = new LoginThrottle();

  constructor(deps: { store: Store; clock: Clock; tokenTtlHours: number }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#tokenTtlMs = deps.tokenTtlHours * 3_600_000;
  }

  /**
   * On first start, creates `admin`. The password comes from config (XIAOER_ADMIN_PASSWORD);
   * otherwise one is generated and logged exactly once, since it is never stored in clear.
   */
  async ensureAdmin(configured: string | undefined, log: Logger): Promise<{ generatedPassword?: string }> {
    if ((await this.#store.countUsers()) > 0) return {};
    const password = configured ?? generatePassword();
    await this.createUser({ username: 'admin', displayName: 'Administrator', role: 'admin', password });
    log.info({ generated: !configured }, 'created user admin');
    // The caller prints a generated password once, outside the log: it is never stored in clear.
    return configured ? {} : { generatedPassword: password };
  }

  async createUser(input: {
    username: string;
    displayName: string;
    role: Role;
    password: string;
  }): Promise<User> {
    return this.#store.createUser({
      username: input.username,
      displayName: input.displayName,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      createdAt: this.#clock.now(),
    });
  }

  async login(
    username: string,
    password: string,
    from = 'unknown',
  ): Promise<{ token: string; user: User; expiresAt: number }> {
    const keys = [`user:${username}`, `ip:${from}`];
    this.#throttle.check(keys, this.#clock.now());
    const record = await this.#store.findUser(username);
    // Verify against something even for unknown users, so timing does not reveal which names exist.
    const ok = await verifyPassword(password, record?.passwordHash ?? DUMMY_HASH);
    if (!record || !ok) {
      this.#throttle.fail(keys, this.#clock.now());
      throw unauthorized('wrong user name or password');
    }
    this.#throttle.succeed(keys);
    const token = newToken();
    const now = this.#clock.now();
    const expiresAt = now + this.#tokenTtlMs;
    await this.#store.deleteExpiredSessions(now);
    await this.#store.createSession(hashToken(token), record.id, expiresAt);
    const { passwordHash: _hidden, ...user } = record;
    return { token, user, expiresAt };
  }

  async authenticate(authorization: string | undefined): Promise<User> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1]) throw unauthorized();
    const user = await this.#store.findSessionUser(hashToken(match[1]), this.#clock.now());
    if (!user) throw unauthorized('the token is unknown or has expired; log in again');
    return user;
  }

  async logout(authorization: string | undefined): Promise<void> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (match?.[1]) await this.#store.deleteSession(hashToken(match[1]));
  }
}

const DUMMY_HASH = 'scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
