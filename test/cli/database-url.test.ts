import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../http/support/http-client.js';
import { type CliResult, killAllCli, runCli } from '../ops/support/cli.js';
import { describePostgres, PG_ADMIN_URL } from '../support/services.js';

/**
 * A wrong ORGSHIFT_DATABASE_URL is the first thing a new user gets wrong:
 * `orgshift status` must say database_unavailable (exit 1) and name what it
 * tried (host, port and database, or the SQLite path), never the password
 * and never a stack trace, unless ORGSHIFT_DEBUG=1 asks for one.
 */

const PASSWORD = 'url-password-8d3a61';
const STACK = /\n\s+at /;

function withUrl(changes: { user?: string; port?: number | string; database?: string; host?: string }): string {
  const url = new URL(PG_ADMIN_URL);
  if (changes.user !== undefined) url.username = changes.user;
  if (changes.port !== undefined) url.port = String(changes.port);
  if (changes.database !== undefined) url.pathname = `/${changes.database}`;
  if (changes.host !== undefined) url.hostname = changes.host;
  url.password = PASSWORD;
  return url.toString();
}

function status(url: string, env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['status'], { ORGSHIFT_DATABASE_URL: url, ORGSHIFT_LOCK: 'memory', ...env });
}

function expectUnavailable(run: CliResult, names: readonly string[], reason: string): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
  expect(run.stderr).toMatch(/^orgshift: database_unavailable: /m);
  for (const name of names) expect(run.stderr).toContain(name);
  expect(run.stderr).toContain(reason);
  expect(run.stderr).not.toContain(PASSWORD);
  expect(run.stderr).not.toMatch(STACK);
  expect(run.stderr).not.toContain('internal_error');
}

/**
 * The test server trusts every role, so it never asks for a password. This
 * stands in for one that does: it asks for the password in clear text (the
 * driver sends it) and refuses it with SQLSTATE 28P01, as PostgreSQL does.
 */
async function passwordRefusingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    let stage: 'startup' | 'password' = 'startup';
    socket.on('error', () => undefined);
    socket.on('data', () => {
      if (stage === 'startup') {
        stage = 'password';
        const ask = Buffer.alloc(9);
        ask.write('R', 0);
        ask.writeInt32BE(8, 1);
        ask.writeInt32BE(3, 5); // AuthenticationCleartextPassword
        socket.write(ask);
        return;
      }
      const fields = ['SFATAL', 'VFATAL', 'C28P01', 'Mpassword authentication failed for user "postgres"']
        .map((f) => `${f}\0`)
        .join('');
      const body = Buffer.from(`${fields}\0`);
      const head = Buffer.alloc(5);
      head.write('E', 0);
      head.writeInt32BE(body.length + 4, 1);
      socket.end(Buffer.concat([head, body]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('orgshift status with a wrong database URL', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-url-'));
  afterAll(() => {
    killAllCli();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a SQLite path in a missing directory: names the path, creates nothing', async () => {
    const path = join(dir, 'missing', 'orgshift.db');
    const run = await status(`sqlite:${path}`);
    expectUnavailable(run, [path], 'does not exist');
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('a PostgreSQL port nobody listens on: names host, port and database; ORGSHIFT_DEBUG=1 adds the stack', async () => {
    const port = await closedPort();
    const url = withUrl({ port });
    const [plain, json, debug] = await Promise.all([
      status(url),
      runCli(['status', '--json'], { ORGSHIFT_DATABASE_URL: url, ORGSHIFT_LOCK: 'memory' }),
      status(url, { ORGSHIFT_DEBUG: '1' }),
    ]);
    const database = new URL(PG_ADMIN_URL).pathname.slice(1);
    expectUnavailable(plain, [`127.0.0.1:${port}/${database}`], 'connection refused');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: 'database_unavailable',
        message: `database postgres://postgres@127.0.0.1:${port}/${database} is unavailable: connection refused`,
      },
    });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toContain('database_unavailable');
    expect(debug.stderr).toMatch(STACK);
    expect(debug.stderr).not.toContain(PASSWORD);
  });

  it('a server that refuses the password (28P01): authentication failed, never the password', async () => {
    const server = await passwordRefusingServer();
    try {
      const run = await status(withUrl({ port: server.port, database: 'app' }));
      expectUnavailable(run, [`127.0.0.1:${server.port}/app`], 'authentication failed');
    } finally {
      await server.close();
    }
  });

  describePostgres('on the real PostgreSQL', () => {
    let port: string;
    beforeAll(() => {
      port = new URL(PG_ADMIN_URL).port || '5432';
    });

    it('a database that does not exist, and a role that does not exist (28000)', async () => {
      const [missingDb, unknownRole] = await Promise.all([
        status(withUrl({ database: 'orgshift_no_such_database' })),
        status(withUrl({ user: 'orgshift_no_such_role' })),
      ]);
      expectUnavailable(missingDb, [`127.0.0.1:${port}/orgshift_no_such_database`], 'the database does not exist');
      expectUnavailable(unknownRole, ['orgshift_no_such_role@127.0.0.1', `:${port}/`], 'authentication failed');
    });
  });

  it('--help documents ORGSHIFT_DEBUG', async () => {
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('ORGSHIFT_DEBUG=1');
  });
});
