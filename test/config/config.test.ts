import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_LEGACY_KEY, DEMO_SECRET_KEY, loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';
import { DEMO_MAP, DEMO_ORIGIN } from '../../src/schema-map/demo-map.js';

const KEY = randomKey();
const OTHER_KEY = randomKey();

function randomKey(): string {
  return randomBytes(32).toString('base64');
}
const dir = mkdtempSync(join(tmpdir(), 'orgshift-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mapFile(content: string): string {
  const path = join(dir, `m${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, content);
  return path;
}

function badKey(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).key;
  }
  throw new Error('configuration was accepted');
}

describe('loadConfig', () => {
  it('defaults to SQLite, an in-process lock, the demo map and demo keys', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'sqlite', path: './orgshift.db' });
    expect(config.lock).toEqual({ kind: 'memory' });
    expect(config.keys.demo).toBe(true);
    expect(config.lockTtlMs).toBe(30_000);
    expect(config.lockWaitMs).toBe(5_000);
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(config.map.origin).toBe(DEMO_ORIGIN);
    expect(config.map.model.dependents.map((d) => d.table.name)).toEqual(['conversations', 'api_keys']);
  });

  it('defaults to PostgreSQL locks on PostgreSQL and demands real keys there', () => {
    const url = 'postgres://postgres@127.0.0.1/test';
    expect(badKey({ ORGSHIFT_DATABASE_URL: url })).toBe('ORGSHIFT_LEGACY_KEY');
    const config = loadConfig({ ORGSHIFT_DATABASE_URL: url, ORGSHIFT_LEGACY_KEY: KEY, ORGSHIFT_SECRET_KEY: OTHER_KEY });
    expect(config.lock).toEqual({ kind: 'postgres', url, poolSize: 20 });
    expect(config.keys.demo).toBe(false);
  });

  it.each([
    ['ORGSHIFT_DATABASE_URL', 'mysql://x'],
    ['ORGSHIFT_DATABASE_URL', 'sqlite:'],
    ['ORGSHIFT_LOCK', 'zookeeper'],
    ['ORGSHIFT_REDIS_URL', 'http://x'],
    ['ORGSHIFT_LOCK_TTL_MS', '-5'],
    ['ORGSHIFT_LOCK_TTL_MS', 'soon'],
    ['ORGSHIFT_LOCK_WAIT_MS', '1.5'],
    ['ORGSHIFT_PORT', '70000'],
    ['ORGSHIFT_API_TOKEN', 'short'],
    ['ORGSHIFT_ADMIN_TOKEN', 'short'],
    ['ORGSHIFT_LEGACY_KEY', 'bm90IDMyIGJ5dGVz'],
    ['ORGSHIFT_SECRET_KEY', 'bm90IDMyIGJ5dGVz'],
    ['ORGSHIFT_MAP', '/nonexistent/orgshift.map.json'],
    ['ORGSHIFT_CONFIG', '/nonexistent/orgshift.config.json'],
  ])('names %s when it is %j', (key, value) => {
    expect(badKey({ [key]: value })).toBe(key);
  });

  it('refuses postgres locks on SQLite', () => {
    expect(badKey({ ORGSHIFT_LOCK: 'postgres' })).toBe('ORGSHIFT_LOCK');
  });

  it('never echoes the bad value, which may be a secret', () => {
    try {
      loadConfig({ ORGSHIFT_LEGACY_KEY: 'c2VjcmV0LXZhbHVl' });
    } catch (error) {
      expect((error as Error).message).not.toContain('c2VjcmV0LXZhbHVl');
    }
  });

  it('reads the schema map named by ORGSHIFT_MAP, comments allowed', () => {
    const path = mapFile(
      `// the demo layout, as a file\n${JSON.stringify({ ...DEMO_MAP, dependents: [DEMO_MAP.dependents?.[0]] })}`,
    );
    const config = loadConfig({ ORGSHIFT_MAP: path });
    expect(config.map.origin).toBe(path);
    expect(config.map.model.dependents.map((d) => d.table.name)).toEqual(['conversations']);
  });

  it.each([
    ['{not json', ''],
    [JSON.stringify({ ...DEMO_MAP, version: 2 }), 'version'],
    [JSON.stringify({ ...DEMO_MAP, surprise: true }), '(top level)'],
    [
      JSON.stringify({ ...DEMO_MAP, legacy: { ...DEMO_MAP.legacy, key: { column: 'id\u0000', type: 'uuid' } } }),
      'legacy.key.column',
    ],
    [
      JSON.stringify({
        ...DEMO_MAP,
        dependents: [{ table: 'orgshift_outbox', userKey: { column: 'user_id' }, org: { column: 'org_id' } }],
      }),
      'dependents.0.table',
    ],
    [
      JSON.stringify({
        ...DEMO_MAP,
        dependents: [{ table: 'users', userKey: { column: 'id' }, org: { column: 'current_org_id' } }],
      }),
      'dependents.0.table',
    ],
  ])('names the bad key of map file %s', (content, key) => {
    const path = mapFile(content);
    const error = (() => {
      try {
        loadConfig({ ORGSHIFT_MAP: path });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.key.startsWith(path)).toBe(true);
    if (key) expect(error.key).toBe(`${path}: ${key}`);
  });

  describe('webhooks and the outbox', () => {
    const SECRET = 'a-webhook-secret-0123';

    it('has the documented defaults and no webhook', () => {
      expect(loadConfig({}).outbox).toEqual({
        webhooks: [],
        webhookSecret: undefined,
        timeoutMs: 10_000,
        maxAgeMs: 86_400_000,
        retryBaseMs: 1_000,
        retryMaxMs: 3_600_000,
        pollMs: 500,
        concurrency: 32,
        dispatch: true,
      });
    });

    it('reads one URL or several, comma-separated, in order', () => {
      const config = loadConfig({
        ORGSHIFT_WEBHOOK_URL: 'https://a.example.com/hook, http://user:pw@b.example.com:8080/x?token=t',
        ORGSHIFT_WEBHOOK_SECRET: SECRET,
      });
      expect(config.outbox.webhooks.map((w) => w.label)).toEqual([
        'webhook #1 (https://a.example.com)',
        'webhook #2 (http://b.example.com:8080)',
      ]);
      expect(config.outbox.webhooks[1]?.url().href).toBe('http://user:pw@b.example.com:8080/x?token=t');
    });

    it.each([
      [{ ORGSHIFT_WEBHOOK_URL: 'https://a.example.com' }, 'ORGSHIFT_WEBHOOK_SECRET'],
      [
        { ORGSHIFT_WEBHOOK_URL: 'https://a.example.com', ORGSHIFT_WEBHOOK_SECRET: 'too-short' },
        'ORGSHIFT_WEBHOOK_SECRET',
      ],
      [
        { ORGSHIFT_WEBHOOK_URL: 'ftp://user:hunter2@a.example.com', ORGSHIFT_WEBHOOK_SECRET: SECRET },
        'ORGSHIFT_WEBHOOK_URL',
      ],
      [
        { ORGSHIFT_WEBHOOK_URL: 'https://a.example.com,not a url hunter2', ORGSHIFT_WEBHOOK_SECRET: SECRET },
        'ORGSHIFT_WEBHOOK_URL',
      ],
      [
        { ORGSHIFT_WEBHOOK_URL: 'https://a.example.com,https://a.example.com', ORGSHIFT_WEBHOOK_SECRET: SECRET },
        'ORGSHIFT_WEBHOOK_URL',
      ],
      [{ ORGSHIFT_WEBHOOK_TIMEOUT_MS: '0' }, 'ORGSHIFT_WEBHOOK_TIMEOUT_MS'],
      [{ ORGSHIFT_OUTBOX_MAX_AGE_MS: 'a day' }, 'ORGSHIFT_OUTBOX_MAX_AGE_MS'],
      [{ ORGSHIFT_OUTBOX_RETRY_BASE_MS: '5000', ORGSHIFT_OUTBOX_RETRY_MAX_MS: '1000' }, 'ORGSHIFT_OUTBOX_RETRY_MAX_MS'],
      [{ ORGSHIFT_OUTBOX_POLL_MS: '1' }, 'ORGSHIFT_OUTBOX_POLL_MS'],
      [{ ORGSHIFT_OUTBOX_CONCURRENCY: '0' }, 'ORGSHIFT_OUTBOX_CONCURRENCY'],
      [{ ORGSHIFT_OUTBOX_DISPATCH: 'maybe' }, 'ORGSHIFT_OUTBOX_DISPATCH'],
    ])('names the key of %j and never its value', (env, key) => {
      expect(badKey(env)).toBe(key);
      try {
        loadConfig(env);
      } catch (error) {
        expect((error as Error).message).not.toMatch(/hunter2|too-short|example\.com/);
      }
    });
  });

  describe('refuses secrets that parse but cannot be meant', () => {
    const API = 'api-token-7f3c9a1be2d4';
    const ADMIN = 'admin-token-0c8e4b2f9a71';
    const SECRETS = [API, ADMIN, KEY, OTHER_KEY, DEMO_LEGACY_KEY, DEMO_SECRET_KEY];

    /** The key named by the refusal; the message must never carry one of the values involved. */
    function refusedKey(env: Record<string, string>): string {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        const message = (error as ConfigError).message;
        for (const value of [...SECRETS, ...Object.values(env)].filter((v) => v.trim().length >= 8)) {
          expect(message).not.toContain(value);
        }
        return (error as ConfigError).key;
      }
      throw new Error('configuration was accepted');
    }

    it('an API token equal to the admin token', () => {
      expect(refusedKey({ ORGSHIFT_API_TOKEN: API, ORGSHIFT_ADMIN_TOKEN: API })).toBe('ORGSHIFT_ADMIN_TOKEN');
      expect(loadConfig({ ORGSHIFT_API_TOKEN: API, ORGSHIFT_ADMIN_TOKEN: ADMIN }).http.adminToken).toBe(ADMIN);
    });

    it.each(['ORGSHIFT_API_TOKEN', 'ORGSHIFT_ADMIN_TOKEN'])(
      '%s of whitespace, one repeated character or a short cycle',
      (key) => {
        for (const value of [
          ' '.repeat(20),
          '\t'.repeat(20),
          'a'.repeat(32),
          '0'.repeat(16),
          'ab'.repeat(10),
          'abc'.repeat(8),
        ]) {
          expect(refusedKey({ [key]: value }), JSON.stringify(value)).toBe(key);
        }
      },
    );

    it.each(['ORGSHIFT_API_TOKEN', 'ORGSHIFT_ADMIN_TOKEN'])(
      '%s with whitespace a bearer header cannot carry',
      (key) => {
        for (const value of [`${API} `, ` ${API}`, 'correct horse battery staple']) {
          expect(refusedKey({ [key]: value }), JSON.stringify(value)).toBe(key);
        }
      },
    );

    it('a legacy key equal to the current key', () => {
      expect(refusedKey({ ORGSHIFT_LEGACY_KEY: KEY, ORGSHIFT_SECRET_KEY: KEY })).toBe('ORGSHIFT_SECRET_KEY');
      // Also when one side falls back to the demo key it equals.
      expect(refusedKey({ ORGSHIFT_LEGACY_KEY: DEMO_SECRET_KEY })).toBe('ORGSHIFT_SECRET_KEY');
    });

    it.each(['ORGSHIFT_LEGACY_KEY', 'ORGSHIFT_SECRET_KEY'])('%s of all zeros or one repeated byte', (key) => {
      for (const fill of [0, 0xff, 7]) {
        const other = key === 'ORGSHIFT_LEGACY_KEY' ? 'ORGSHIFT_SECRET_KEY' : 'ORGSHIFT_LEGACY_KEY';
        const env = { [key]: Buffer.alloc(32, fill).toString('base64'), [other]: KEY };
        expect(refusedKey(env), String(fill)).toBe(key);
      }
    });

    it('an empty ORGSHIFT_REDIS_PREFIX', () => {
      expect(refusedKey({ ORGSHIFT_LOCK: 'redis', ORGSHIFT_REDIS_PREFIX: '' })).toBe('ORGSHIFT_REDIS_PREFIX');
      expect(loadConfig({ ORGSHIFT_LOCK: 'redis' }).lock).toMatchObject({ prefix: 'orgshift:' });
    });

    it('the public demo keys while ORGSHIFT_HOST is beyond loopback', () => {
      for (const host of ['0.0.0.0', '::', '10.1.2.3', 'example.com']) {
        expect(refusedKey({ ORGSHIFT_HOST: host, ORGSHIFT_API_TOKEN: API }), host).toBe('ORGSHIFT_LEGACY_KEY');
        expect(refusedKey({ ORGSHIFT_HOST: host, ORGSHIFT_LEGACY_KEY: KEY }), host).toBe('ORGSHIFT_SECRET_KEY');
        const real = { ORGSHIFT_HOST: host, ORGSHIFT_LEGACY_KEY: KEY, ORGSHIFT_SECRET_KEY: OTHER_KEY };
        expect(loadConfig(real).keys.demo).toBe(false);
      }
      for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
        expect(loadConfig({ ORGSHIFT_HOST: host }).keys.demo, host).toBe(true);
      }
    });
  });
});
