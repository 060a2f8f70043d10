/**
 * A webhook receiver on a real local HTTP server: it records every POST (headers and the raw
 * body, as it arrived) and answers the way the test asks: 200, an HTTP error, or a dropped
 * connection (a network error for the sender).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export type WebhookAnswer = number | 'close' | 'hang';

export interface WebhookRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** What it was answered with. */
  answer: WebhookAnswer;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: WebhookRequest[];
  /** The next answers, in order (then 200 again). */
  answerNext(...answers: WebhookAnswer[]): void;
  /** Stops listening: the sender's connections are refused until up(). */
  down(): Promise<void>;
  /** Listens again, on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(path = '/hooks/radgraph'): Promise<WebhookReceiver> {
  const received: WebhookRequest[] = [];
  let next: WebhookAnswer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = next.shift() ?? 200;
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
        answer,
        at: Date.now(),
      });
      if (answer === 'close') {
        req.socket.destroy();
        return;
      }
      if (answer === 'hang') return; // no answer: the sender's timeout
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    answerNext: (...answers) => {
      next = answers;
    },
    down: stop,
    up: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
