import type { TicketDto } from '../src/tickets/ticket-dto.ts';
/**
 * A small client of xiaoer's HTTP API for the simulated desk and maintainers: JSON in and out,
 * bearer tokens, and the API's `{ error: { code, message } }` turned into a typed error.
 */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** A ticket as the API shows it: the one ticket DTO every channel sends. */
export type TicketView = TicketDto;

export interface TicketEventView {
  id: number;
  at: string;
  actor: string;
  type: string;
  detail: Record<string, unknown>;
}

export class ApiClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(0, 'unreachable', `cannot reach ${this.baseUrl}: ${cause}`);
    }
    const text = await res.text();
    const body = text ? (JSON.parse(text) as unknown) : {};
    if (!res.ok) {
      const error = (body as { error?: { code?: string; message?: string } }).error;
      throw new ApiError(res.status, error?.code ?? `http_${res.status}`, error?.message ?? res.statusText);
    }
    return body as T;
  }

  async login(username: string, password: string): Promise<string> {
    const res = await this.request<{ token: string }>('POST', '/api/auth/login', {
      body: { username, password },
    });
    return res.token;
  }

  /** Creates the user unless it exists (409), then logs in as it. */
  async ensureUser(
    adminToken: string,
    user: {
      username: string;
      displayName: string;
      role: 'staff' | 'maintainer';
      password: string;
      sites?: string[];
    },
  ): Promise<string> {
    try {
      await this.request('POST', '/api/users', { token: adminToken, body: user });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
    }
    return this.login(user.username, user.password);
  }

  /** Starts the user's shift at the site (checking in at the start of the working day). */
  async checkIn(token: string, site: string): Promise<void> {
    await this.request('POST', '/api/shifts/check-in', { token, body: { site } });
  }
}
