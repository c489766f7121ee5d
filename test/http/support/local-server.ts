import type { FastifyInstance } from 'fastify';
import { createServer, type ServerOptions } from '../../../src/http/create-server.js';
import { createLogger } from '../../../src/http/logger.js';
import type { Orgshift } from '../../../src/orgshift.js';

export interface LocalServer {
  readonly app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  close(): Promise<void>;
}

/** createServer on a real loopback socket (port 0), quiet unless the test passes a logger. */
export async function listenLocal(orgshift: Orgshift, options: ServerOptions = {}): Promise<LocalServer> {
  const app = await createServer(orgshift, { logger: createLogger({ level: 'silent' }), ...options });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, close: () => app.close() };
}
