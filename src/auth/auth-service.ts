import type { Clock } from '../core/clock.ts';
import { badRequest, conflict, XiaoerError } from '../core/errors.ts';
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

export interface UserChanges {
  displayName?: string;
  role?: Role;
  disabled?: boolean;
  /** The sites the user works at; empty: every site. */
  sites?: string[];
}

/** Logins, sessions and users. Every change to a user is in the audit log, with who made it. */
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
   * otherwise one is generated and returned for the caller to print exactly once, since it is
   * never stored in clear.
   */
  async ensureAdmin(configured: string | undefined, log: Logger): Promise<{ generatedPassword?: string }> {
    if ((await this.#store.countUsers()) > 0) return {};
    const password = configured ?? generatePassword();
    try {
      await this.createUser(
        { username: 'admin', displayName: 'Administrator', role: 'admin', password },
        'system:first-start',
      );
    } catch (err) {
      // Instances starting together on one PostgreSQL: another created it first.
      if (err instanceof XiaoerError && err.code === 'user_exists') return {};
      throw err;
    }
    log.info({ generated: !configured }, 'created user admin');
    return configured ? {} : { generatedPassword: password };
  }

  async createUser(
    input: { username: string; displayName: string; role: Role; password: string; sites?: string[] },
    actor: string,
  ): Promise<User> {
    const user = await this.#store.createUser({
      username: input.username,
      displayName: input.displayName,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      createdAt: this.#clock.now(),
      sites: input.sites ?? [],
    });
    await this.#audit(actor, 'user.created', user.username, {
      role: user.role,
      displayName: user.displayName,
      sites: user.sites,
    });
    return user;
  }

  /** Name, role, sites, or disabling; a disabled user is logged out everywhere at once. */
  async updateUser(username: string, changes: UserChanges, actor: string): Promise<User> {
    const before = await this.#mustFind(username);
    const disabling = changes.disabled === true && before.disabledAt === undefined;
    const demoting = changes.role !== undefined && changes.role !== 'admin';
    if (before.role === 'admin' && (disabling || demoting)) await this.#keepOneAdmin(username);
    const now = this.#clock.now();
    const user = await this.#store.updateUser(username, {
      ...(changes.displayName !== undefined ? { displayName: changes.displayName } : {}),
      ...(changes.role !== undefined ? { role: changes.role } : {}),
      ...(changes.disabled !== undefined ? { disabledAt: changes.disabled ? now : null } : {}),
      ...(changes.sites !== undefined ? { sites: changes.sites } : {}),
      updatedAt: now,
    });
    if (user.disabledAt !== undefined) await this.#store.deleteUserSessions(user.id);
    await this.#audit(actor, 'user.updated', username, {
      ...changes,
      before: {
        displayName: before.displayName,
        role: before.role,
        disabled: before.disabledAt !== undefined,
        sites: before.sites,
      },
    });
    return user;
  }

  /** Sets a new password (given, or generated and returned once); existing sessions end. */
  async resetPassword(
    username: string,
    actor: string,
    password?: string,
  ): Promise<{ user: User; password: string }> {
    const record = await this.#mustFind(username);
    const newPassword = password ?? generatePassword();
    if (newPassword.length < 8) throw badRequest('weak_password', 'a password needs at least 8 characters');
    const user = await this.#store.updateUser(username, {
      passwordHash: await hashPassword(newPassword),
      updatedAt: this.#clock.now(),
    });
    await this.#store.deleteUserSessions(record.id);
    await this.#audit(actor, 'user.password_reset', username, { generated: password === undefined });
    return { user, password: newPassword };
  }

  async login(
    username: string,
    password: string,
    from = 'unknown',
  ): Promise<{ token: string; user: User; expiresAt: number }> {
    const done = this.#throttle.begin(username, from, this.#clock.now());
    let ok = false;
    try {
      const record = await this.#store.findUser(username);
      // Verify against something even for unknown users, so timing does not reveal which names exist.
      const matches = await verifyPassword(password, record?.passwordHash ?? DUMMY_HASH);
      if (!record || !matches || record.disabledAt !== undefined)
        throw unauthorized('wrong user name or password');
      ok = true;
      const token = newToken();
      const now = this.#clock.now();
      const expiresAt = now + this.#tokenTtlMs;
      await this.#store.deleteExpiredSessions(now);
      await this.#store.createSession(hashToken(token), record.id, expiresAt);
      const { passwordHash: _hidden, ...user } = record;
      return { token, user, expiresAt };
    } finally {
      done(ok);
    }
  }

  async authenticate(authorization: string | undefined): Promise<User> {
    const match = /^Bearer\s+(\S{1,200})$/i.exec(authorization ?? '');
    if (!match?.[1]) throw unauthorized();
    const user = await this.#store.findSessionUser(hashToken(match[1]), this.#clock.now());
    if (!user) throw unauthorized('the token is unknown or has expired; log in again');
    return user;
  }

  async logout(authorization: string | undefined): Promise<void> {
    const match = /^Bearer\s+(\S{1,200})$/i.exec(authorization ?? '');
    if (match?.[1]) await this.#store.deleteSession(hashToken(match[1]));
  }

  async #mustFind(username: string) {
    const record = await this.#store.findUser(username);
    if (!record) throw new XiaoerError('not_found', `user ${username} does not exist`, { httpStatus: 404 });
    return record;
  }

  /** Nobody may disable or demote the last active admin: nobody could administer xiaoer any more. */
  async #keepOneAdmin(username: string): Promise<void> {
    const admins = (await this.#store.listUsers()).filter(
      (u) => u.role === 'admin' && u.disabledAt === undefined,
    );
    if (admins.every((u) => u.username === username))
      throw conflict('last_admin', `${username} is the last active admin; make another admin first`);
  }

  async #audit(
    actor: string,
    action: string,
    target: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.#store.addAudit({ at: this.#clock.now(), actor, action, target: `user:${target}`, detail });
  }
}

const DUMMY_HASH = 'scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
