import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { verifyWebhookSignature } from '../../../src/outbox/webhook-signature.js';

/** One request as the receiver saw it. */
export interface Received {
  readonly id: string;
  readonly type: string;
  readonly userId: string;
  readonly body: string;
  readonly signatureValid: boolean;
  readonly eventIdHeader: string | undefined;
  readonly authorization: string | undefined;
  readonly path: string;
  /** What the receiver answered: a status, or 'hang' (no answer). */
  readonly answer: number | 'hang';
}

/** Decides the answer to a request: a status code, or 'hang' to never answer. */
export type Behaviour = (request: { readonly id: string; readonly nth: number }) => number | 'hang';

export const ALWAYS_OK: Behaviour = () => 200;

/**
 * A real webhook receiver on 127.0.0.1: verifies every signature, records
 * every request, answers as told, and can go down (port closed, connections
 * cut) and come back on the same port.
 */
export class Receiver {
  readonly received: Received[] = [];
  behaviour: Behaviour;
  /** Milliseconds to wait before answering, so deliveries overlap. */
  delayMs = 0;
  readonly #secret: string;
  readonly #sockets = new Set<Socket>();
  readonly #hanging = new Set<ServerResponse>();
  readonly #waiters: { readonly test: () => boolean; readonly resolve: () => void }[] = [];
  #server: Server | undefined;
  #port = 0;

  constructor(secret: string, behaviour: Behaviour = ALWAYS_OK) {
    this.#secret = secret;
    this.behaviour = behaviour;
  }

  get port(): number {
    return this.#port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  /** Listens on `port` (0: any free port, then the same one on every later start). */
  async start(port = this.#port): Promise<void> {
    const server = createServer((request, response) => this.#handle(request, response));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.#port = typeof address === 'object' && address !== null ? address.port : port;
    this.#server = server;
  }

  /** Goes down: the port refuses connections and every open one is cut. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    for (const response of this.#hanging) response.destroy();
    this.#hanging.clear();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Distinct event ids received with a 2xx answer. */
  deliveredIds(): Set<string> {
    return new Set(this.received.filter((r) => r.answer !== 'hang' && r.answer < 300).map((r) => r.id));
  }

  /** Resolves once `test` holds (checked after every request), or rejects after `ms`. */
  until(test: () => boolean, ms = 30_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver: condition not met in ${ms} ms`)), ms);
      this.#waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const event = JSON.parse(body) as { id: string; type: string; data: { userId: string } };
      const nth = this.received.filter((r) => r.id === event.id).length + 1;
      const answer = this.behaviour({ id: event.id, nth });
      this.received.push({
        id: event.id,
        type: event.type,
        userId: event.data.userId,
        body,
        signatureValid: verifyWebhookSignature(body, header(request, 'orgshift-signature'), this.#secret, 300),
        eventIdHeader: header(request, 'orgshift-event-id'),
        authorization: header(request, 'authorization'),
        path: request.url ?? '',
        answer,
      });
      if (answer === 'hang') this.#hanging.add(response);
      else if (this.delayMs > 0) setTimeout(() => answerWith(response, answer), this.delayMs);
      else answerWith(response, answer);
      for (const waiter of [...this.#waiters]) {
        if (waiter.test()) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  }
}

function answerWith(response: ServerResponse, status: number): void {
  if (!response.destroyed) response.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
