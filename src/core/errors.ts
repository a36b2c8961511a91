/** Typed errors with a stable code; the API maps them to `{ error: { code, message, details } }`. */
export class XiaoerError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly details?: unknown;

  constructor(
    code: string,
    message: string,
    opts: { httpStatus?: number; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'XiaoerError';
    this.code = code;
    this.httpStatus = opts.httpStatus ?? 500;
    this.details = opts.details;
  }
}

export const notFound = (what: string, id: string | number) =>
  new XiaoerError('not_found', `${what} ${id} does not exist`, { httpStatus: 404 });

export const conflict = (code: string, message: string, details?: unknown) =>
  new XiaoerError(code, message, { httpStatus: 409, details });

export const badRequest = (code: string, message: string, details?: unknown) =>
  new XiaoerError(code, message, { httpStatus: 400, details });

/** A configuration problem: every issue as `path: message`. */
export class ConfigError extends XiaoerError {
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super('config_invalid', `invalid configuration in ${source}:\n  ${issues.join('\n  ')}`, {
      details: issues,
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** A port or address the service needs is taken; names the setting to change. */
export class PortInUseError extends XiaoerError {
  constructor(what: string, port: number, setting: string) {
    super('port_in_use', `${what} port ${port} is already in use; choose another with ${setting}`);
    this.name = 'PortInUseError';
  }
}
