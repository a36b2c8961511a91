import { reactive } from 'vue';
import type { Role, User } from './types';

const KEY = 'xiaoer.session';

interface SessionState {
  token: string | null;
  expiresAt: number | null;
  user: User | null;
  /** Why the last session ended, shown once on the login page. */
  endedBecause: 'expired' | 'logout' | null;
}

function restore(): SessionState {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null') as {
      token: string;
      expiresAt: number;
      user: User;
    } | null;
    if (saved && saved.expiresAt > Date.now()) return { ...saved, endedBecause: null };
    if (saved) localStorage.removeItem(KEY);
    return { token: null, expiresAt: null, user: null, endedBecause: saved ? 'expired' : null };
  } catch {
    return { token: null, expiresAt: null, user: null, endedBecause: null };
  }
}

/** The logged-in user and their bearer token, kept across reloads until the server's expiry. */
export const session = reactive<SessionState>(restore());

let expiryTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<(reason: 'expired' | 'logout') => void>();

/** Called when a session ends (the router goes to the login page). */
export function onSignOut(fn: (reason: 'expired' | 'logout') => void): void {
  listeners.add(fn);
}

function armExpiry(): void {
  clearTimeout(expiryTimer);
  if (!session.expiresAt) return;
  // setTimeout takes at most 2^31-1 ms; a longer session is re-armed on the next load.
  const ms = Math.min(session.expiresAt - Date.now(), 2_147_483_647);
  expiryTimer = setTimeout(() => signOut('expired'), Math.max(ms, 0));
}
armExpiry();

export async function signIn(username: string, password: string): Promise<User> {
  const res = await fetch('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const data = (await res.json().catch(() => ({}))) as {
    token?: string;
    expiresAt?: string;
    user?: User;
    error?: { code: string; message: string; retryAfterSeconds?: number };
  };
  if (!res.ok || !data.token || !data.user || !data.expiresAt) {
    const e = new Error(data.error?.message ?? res.statusText) as Error & {
      code?: string;
      retryAfterSeconds?: number;
    };
    e.code = data.error?.code ?? `http_${res.status}`;
    e.retryAfterSeconds = data.error?.retryAfterSeconds;
    throw e;
  }
  session.token = data.token;
  session.user = data.user;
  session.expiresAt = Date.parse(data.expiresAt);
  session.endedBecause = null;
  localStorage.setItem(
    KEY,
    JSON.stringify({ token: session.token, expiresAt: session.expiresAt, user: session.user }),
  );
  armExpiry();
  return data.user;
}

export function signOut(reason: 'expired' | 'logout'): void {
  const token = session.token;
  if (reason === 'logout' && token) {
    void fetch('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  }
  clearTimeout(expiryTimer);
  session.token = null;
  session.user = null;
  session.expiresAt = null;
  session.endedBecause = reason;
  localStorage.removeItem(KEY);
  for (const fn of listeners) fn(reason);
}

export function hasRole(...roles: Role[]): boolean {
  return !!session.user && roles.includes(session.user.role);
}

/** Where a user lands after logging in: the desk board, or the phone page for maintainers. */
export function homeFor(user: User | null): string {
  if (!user) return '/login';
  return user.role === 'maintainer' ? '/m' : '/board';
}
