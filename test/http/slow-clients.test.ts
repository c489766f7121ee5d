import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createServer } from '../../src/http/create-server.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../../src/http/http-limits.js';
import { createLogger } from '../../src/http/logger.js';
import { serveSettingsFromEnv } from '../../src/http/serve-settings.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { openTest } from '../support/open-test.js';
import { openRawSocket, type RawSocket, within } from './support/raw-socket.js';

const API_TOKEN = 'api-token-for-slow-clients-01';
const ADMIN_TOKEN = 'admin-token-for-slow-clients-1';
/** Long enough that only the limit under test can explain a close seen before the deadline. */
const LONG = 60_000;
/** Generous upper bound for "closed by the server", so a loaded machine does not fail the test. */
const DEADLINE_MS = 10_000;

/**
 * Real sockets (node:net) against a real listening server: clients that
 * trickle their headers or body, idle keep-alive connections, more
 * connections than the cap, and bodies the server refused before reading.
 */
describe('slow and greedy clients', () => {
  let orgshift: Orgshift;
  let userId: string;
  const servers: FastifyInstance[] = [];
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    orgshift = await openTest({ ORGSHIFT_DATABASE_URL: 'sqlite::memory:' });
    await orgshift.seed({ users: 1 });
    const rows = await sql<{ id: string }>`select id from legacy_users`.execute(internalsOf(orgshift).db.kysely);
    userId = String(rows.rows[0]?.id);
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const server of servers.splice(0)) await server.close();
  });
  afterAll(async () => {
    await orgshift?.close();
  });

  async function serve(limits: Partial<HttpLimits>, tokens: boolean): Promise<number> {
    const app = await createServer(orgshift, {
      logger: createLogger({ level: 'silent' }),
      limits: {
        headersTimeoutMs: LONG,
        requestTimeoutMs: LONG,
        keepAliveTimeoutMs: LONG,
        connectionTimeoutMs: LONG,
        maxConnections: 1_000,
        ...limits,
      },
      ...(tokens ? { apiToken: API_TOKEN, adminToken: ADMIN_TOKEN } : {}),
    });
    servers.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  async function open(port: number, count: number): Promise<RawSocket[]> {
    const opened = await Promise.all(Array.from({ length: count }, () => openRawSocket(port)));
    sockets.push(...opened);
    return opened;
  }

  const rollbackHead = (contentLength: number) =>
    `POST /v1/admin/users/${userId}/rollback HTTP/1.1\r\nHost: orgshift\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${contentLength}\r\n\r\n`;

  it('closes 100 sockets that announced a 100000-byte body and trickle it, once refused (401)', async () => {
    const port = await serve({ requestTimeoutMs: 2_000 }, true);
    const clients = await open(port, 100);
    for (const client of clients) {
      client.socket.write(`${rollbackHead(100_000)}{`);
      client.trickle(250);
    }
    await within(Promise.all(clients.map((c) => c.closed)), DEADLINE_MS, 'all 100 closed');
    for (const client of clients) {
      expect(client.received()).toMatch(/^HTTP\/1\.1 401 /);
      expect(client.received().toLowerCase()).toContain('connection: close');
    }
  });

  it('closes a socket whose accepted body trickles in, when the request timeout passes (408)', async () => {
    const port = await serve({ requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 }, false);
    const clients = await open(port, 50);
    for (const client of clients) {
      client.socket.write(`${rollbackHead(1_000)}{`);
      // Steady traffic: the inactivity timeout (60 s) cannot be what closes it.
      client.trickle(200);
    }
    await within(Promise.all(clients.map((c) => c.closed)), DEADLINE_MS, 'all 50 closed');
    for (const client of clients) expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect((await orgshift.verifyUser(userId)).state).toBe('pending');
  });

  it('closes a socket whose headers trickle in, when the headers timeout passes (408)', async () => {
    const port = await serve({ headersTimeoutMs: 500 }, false);
    const clients = await open(port, 50);
    for (const client of clients) {
      client.socket.write('GET /healthz HTTP/1.1\r\nHost: orgshift\r\nX-Slow: ');
      client.trickle(100);
    }
    await within(Promise.all(clients.map((c) => c.closed)), DEADLINE_MS, 'all 50 closed');
    for (const client of clients) expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const port = await serve({ keepAliveTimeoutMs: 500 }, false);
    const [client] = await open(port, 1);
    if (client === undefined) throw new Error('no socket');
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: orgshift\r\n\r\n');
    await client.receivedText('{"ok":true}');
    expect(client.received().toLowerCase()).toContain('connection: keep-alive');
    await within(client.closed, DEADLINE_MS, 'idle connection closed');
  });

  it('refuses connections beyond the cap and accepts again once one closes', async () => {
    const port = await serve({ maxConnections: 5 }, false);
    // Each completes a request, so the server has certainly accepted it and holds it (keep-alive).
    const held = await open(port, 5);
    for (const client of held) client.socket.write('GET /healthz HTTP/1.1\r\nHost: orgshift\r\n\r\n');
    await Promise.all(held.map((c) => c.receivedText('{"ok":true}')));

    const [extra] = await open(port, 1);
    if (extra === undefined) throw new Error('no socket');
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: orgshift\r\n\r\n');
    await within(extra.closed, DEADLINE_MS, 'the sixth connection closed');
    expect(extra.received()).toBe('');

    held[0]?.destroy();
    await held[0]?.closed;
    // The server notices the close asynchronously; a refused attempt is retried, a served one ends the loop.
    await within(
      (async () => {
        for (;;) {
          const [again] = await open(port, 1);
          again?.socket.write('GET /healthz HTTP/1.1\r\nHost: orgshift\r\nConnection: close\r\n\r\n');
          await again?.closed;
          if (again?.received().includes('{"ok":true}')) return;
        }
      })(),
      DEADLINE_MS,
      'a connection served after one closed',
    );
  });

  it('closes the connection after an early 401 or 413 instead of waiting for the unread body', async () => {
    const withTokens = await serve({}, true);
    const [refused] = await open(withTokens, 1);
    refused?.socket.write(`${rollbackHead(1_000)}{"a":`);
    await within(refused?.closed ?? Promise.reject(), DEADLINE_MS, 'closed after the 401');
    expect(refused?.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(refused?.received().toLowerCase()).toContain('connection: close');

    const tokenless = await serve({}, false);
    const [tooLarge] = await open(tokenless, 1);
    tooLarge?.socket.write(`${rollbackHead(100_000)}{"a":`);
    await within(tooLarge?.closed ?? Promise.reject(), DEADLINE_MS, 'closed after the 413');
    expect(tooLarge?.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(tooLarge?.received().toLowerCase()).toContain('connection: close');

    // A request whose body was read keeps its connection.
    const [complete] = await open(withTokens, 1);
    complete?.socket.write(`GET /healthz HTTP/1.1\r\nHost: orgshift\r\n\r\n`);
    await complete?.receivedText('{"ok":true}');
    expect(complete?.received().toLowerCase()).toContain('connection: keep-alive');
  });
});

describe('HTTP limits from the environment', () => {
  it('defaults, reads each ORGSHIFT_HTTP_ variable, and names the bad key', () => {
    expect(serveSettingsFromEnv({}).limits).toEqual(DEFAULT_HTTP_LIMITS);
    const limits = serveSettingsFromEnv({
      ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS: '1000',
      ORGSHIFT_HTTP_REQUEST_TIMEOUT_MS: '2000',
      ORGSHIFT_HTTP_KEEP_ALIVE_TIMEOUT_MS: '3000',
      ORGSHIFT_HTTP_CONNECTION_TIMEOUT_MS: '4000',
      ORGSHIFT_HTTP_MAX_CONNECTIONS: '50',
    }).limits;
    expect(limits).toEqual({
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      keepAliveTimeoutMs: 3000,
      connectionTimeoutMs: 4000,
      maxConnections: 50,
    });
    const refused = (env: Record<string, string>) => {
      try {
        serveSettingsFromEnv(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).key;
      }
      throw new Error('accepted');
    };
    for (const key of [
      'ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS',
      'ORGSHIFT_HTTP_REQUEST_TIMEOUT_MS',
      'ORGSHIFT_HTTP_KEEP_ALIVE_TIMEOUT_MS',
      'ORGSHIFT_HTTP_CONNECTION_TIMEOUT_MS',
      'ORGSHIFT_HTTP_MAX_CONNECTIONS',
    ]) {
      for (const value of ['0', '-1', 'soon', '1.5']) expect(refused({ [key]: value }), `${key}=${value}`).toBe(key);
    }
    expect(refused({ ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS: '5000', ORGSHIFT_HTTP_REQUEST_TIMEOUT_MS: '1000' })).toBe(
      'ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS',
    );
  });
});
