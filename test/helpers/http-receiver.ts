import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ReceivedRequest {
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/**
 * A real local HTTP endpoint standing in for a WeCom/DingTalk robot or a generic webhook.
 * `respond` decides each answer, so tests can fail the first attempts.
 */
export async function startReceiver(
  respond: (req: ReceivedRequest, n: number) => { status: number; body: unknown },
  /** A given port, e.g. one xiaoer has been trying while the receiver was away; default any free one. */
  listenPort = 0,
): Promise<{ url: string; received: ReceivedRequest[]; close(): Promise<void> }> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const entry = { path: url.pathname, query: url.searchParams, body: raw ? JSON.parse(raw) : undefined };
      received.push(entry);
      const answer = respond(entry, received.length);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
