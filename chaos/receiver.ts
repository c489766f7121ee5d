import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { verifyWebhookSignature } from '../src/outbox/webhook-signature.js';

/** One event as the receiver accepted it (answered 2xx), with how many times it came. */
export interface Accepted {
  readonly type: string;
  readonly userId: string;
  times: number;
}

export interface ReceiverOptions {
  readonly secret: string;
  /** Share of requests answered 500. */
  readonly failShare: number;
  /** Share of requests never answered (the sender's timeout decides). */
  readonly hangShare: number;
}

/**
 * The chaos run's webhook receiver: verifies every signature, fails a share
 * of requests with 500, leaves another share unanswered, and goes down (port
 * closed, connections cut) when told. Records every event it accepted.
 */
export class ChaosReceiver {
  readonly accepted = new Map<string, Accepted>();
  readonly tally = { requests: 0, failed: 0, hung: 0, badSignatures: 0, outages: 0 };
  readonly #options: ReceiverOptions;
  readonly #sockets = new Set<Socket>();
  readonly #hanging = new Set<ServerResponse>();
  #server: Server | undefined;
  #port = 0;

  constructor(options: ReceiverOptions) {
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => this.#handle(Buffer.concat(chunks).toString('utf8'), request.headers, response));
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address === 'object' && address !== null) this.#port = address.port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    for (const response of this.#hanging) response.destroy();
    this.#hanging.clear();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Down for `ms`, then back on the same port. */
  async outage(ms: number): Promise<void> {
    this.tally.outages++;
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await this.start();
  }

  #handle(body: string, headers: Record<string, string | string[] | undefined>, response: ServerResponse): void {
    this.tally.requests++;
    const signature = headers['orgshift-signature'];
    if (!verifyWebhookSignature(body, typeof signature === 'string' ? signature : undefined, this.#options.secret)) {
      this.tally.badSignatures++;
      response.writeHead(400).end();
      return;
    }
    const roll = Math.random();
    if (roll < this.#options.hangShare) {
      this.tally.hung++;
      this.#hanging.add(response);
      response.once('close', () => this.#hanging.delete(response));
      return;
    }
    if (roll < this.#options.hangShare + this.#options.failShare) {
      this.tally.failed++;
      response.writeHead(500).end();
      return;
    }
    const event = JSON.parse(body) as { id: string; type: string; data: { userId: string } };
    const seen = this.accepted.get(event.id);
    if (seen) seen.times++;
    else this.accepted.set(event.id, { type: event.type, userId: event.data.userId, times: 1 });
    response.writeHead(204).end();
  }
}
