import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';
import type { Logger } from '../core/logger.ts';

const MAX_MESSAGE_CHARS = 500;

/**
 * node-opcua writes its warnings and errors with console.log (node-opcua-debug). Route them into
 * xiaoer's structured log instead. Its "warnings" are mostly the expected noise of an outage we
 * already report ourselves (socket closed, keep-alive failed), so they go to debug, its errors to
 * warn. The hook is process-wide: the last OpcUaSource started owns it.
 */
export function routeNodeOpcuaLogs(log: Logger): void {
  const route =
    (level: 'debug' | 'warn') =>
    (context: unknown, ...args: unknown[]): void => {
      if (!log.isLevelEnabled(level)) return;
      const where = context as { filename?: unknown; callerline?: unknown } | undefined;
      const message = format(...args)
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, MAX_MESSAGE_CHARS);
      log[level](
        { library: 'node-opcua', at: `${String(where?.filename)}:${String(where?.callerline)}` },
        message,
      );
    };
  setWarningLogger(route('debug'));
  setErrorLogger(route('warn'));
}
