import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, MAX_LOGGED_VALUE, redactedUrl } from '../../src/http/logger.js';
import type { Orgshift } from '../../src/orgshift.js';
import { openTest } from '../support/open-test.js';
import { bearer, call } from './support/http-client.js';
import { type LocalServer, listenLocal } from './support/local-server.js';

const API_TOKEN = 'api-token-for-access-log-0001';
const HEADER_TOKEN = 'x-auth-token-value-5d1f0a9c';
const QUERY_TOKEN = 'query-token-value-8b2e7c41';
const BEARER_TOKEN = 'bearer-token-value-3a9d6e02';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
/** A request line plus a few short headers, serialized: what a log line may cost at most. */
const MAX_LINE_BYTES = 1_500;

describe('the access log', () => {
  let orgshift: Orgshift;
  let server: LocalServer;
  const lines: string[] = [];

  beforeAll(async () => {
    orgshift = await openTest({ ORGSHIFT_DATABASE_URL: 'sqlite::memory:' });
    const logger = createLogger({ level: 'info', stream: { write: (line: string) => void lines.push(line) } });
    server = await listenLocal(orgshift, { apiToken: API_TOKEN, logger });
  });
  afterAll(async () => {
    await server?.close();
    await orgshift?.close();
  });

  it('logs every request, 401s included, without the tokens or the bulk a client sent', async () => {
    const huge = 'y'.repeat(15_000);
    const hostile = {
      'x-auth-token': HEADER_TOKEN,
      'x-huge': huge,
      'user-agent': `agent/${'z'.repeat(1_000)}`,
      cookie: `session=${HEADER_TOKEN}`,
    };
    const requests = [
      { path: `/v1/users/${UNKNOWN_ID}?access_token=${QUERY_TOKEN}&verbose`, headers: bearer(BEARER_TOKEN) },
      { path: `/v1/users/${UNKNOWN_ID}?${QUERY_TOKEN}`, headers: {} },
      { path: `/v1/users/${UNKNOWN_ID}?q=${QUERY_TOKEN}`, headers: bearer(API_TOKEN) },
      { path: `/healthz?token=${QUERY_TOKEN}`, headers: {} },
      // Node caps the request head at 16 KB: the long URL comes without the huge header.
      { path: `/nowhere/${'p'.repeat(5_000)}`, headers: { 'x-huge': undefined } },
    ];
    const before = lines.length;
    const rounds = 40;
    for (let round = 0; round < rounds; round++) {
      for (const { path, headers } of requests) {
        const sentHeaders = Object.entries({ ...hostile, ...headers }).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        );
        const answer = await call(server.url, path, { headers: sentHeaders });
        expect([200, 401, 404], path.slice(0, 80)).toContain(answer.status);
      }
    }
    const logged = lines.slice(before);
    const sent = rounds * requests.length;
    expect(logged.filter((line) => JSON.parse(line).msg === 'request')).toHaveLength(sent);

    const log = logged.join('');
    for (const secret of [HEADER_TOKEN, QUERY_TOKEN, BEARER_TOKEN, API_TOKEN]) expect(log).not.toContain(secret);
    expect(log).not.toContain('x-huge');
    expect(log).not.toMatch(/[yzp]{250}/);
    for (const line of logged) expect(Buffer.byteLength(line), line.slice(0, 300)).toBeLessThan(MAX_LINE_BYTES);
    expect(Buffer.byteLength(log)).toBeLessThan(sent * MAX_LINE_BYTES);

    const first = JSON.parse(logged[0] as string);
    expect(first.statusCode).toBe(401);
    expect(first.req.url).toBe(`/v1/users/${UNKNOWN_ID}?access_token=[redacted]&[redacted]`);
    expect(first.req.headers.authorization).toBe('[redacted]');
    expect(first.req.headers['user-agent']).toMatch(/^agent\/z+…\(1006 chars\)$/);
    expect(first.req.headers['user-agent'].length).toBeLessThan(MAX_LOGGED_VALUE + 20);
    expect(Object.keys(first.req.headers).sort()).toEqual(['accept', 'authorization', 'host', 'user-agent']);
  });

  it('keeps query parameter names and replaces every value', () => {
    expect(redactedUrl('/a?x=1&y=&z')).toBe('/a?x=[redacted]&y=[redacted]&[redacted]');
    expect(redactedUrl('/a?access_token=abc%20def')).toBe('/a?access_token=[redacted]');
    expect(redactedUrl(`/a?${'n'.repeat(100)}=1`)).toBe('/a?[redacted]');
    expect(redactedUrl('/v1/users/x')).toBe('/v1/users/x');
    expect(redactedUrl(undefined)).toBeUndefined();
  });
});
