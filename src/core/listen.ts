import type { Server } from 'node:net';
import { PortInUseError, XiaoerError } from './errors.ts';

/** Listens and resolves with the bound port; a taken port becomes an error naming the setting. */
export function listen(
  server: Server,
  host: string,
  port: number,
  what: string,
  setting: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(what, port, setting));
      else
        reject(new XiaoerError('listen_failed', `${what} cannot listen on ${host}:${port}: ${err.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
