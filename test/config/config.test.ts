import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';

const KEY = Buffer.alloc(32, 1).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'orgshift-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(content: string): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
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
  it('defaults to SQLite, an in-process lock and demo keys', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'sqlite', path: './orgshift.db' });
    expect(config.lock).toEqual({ kind: 'memory' });
    expect(config.keys.demo).toBe(true);
    expect(config.lockTtlMs).toBe(30_000);
    expect(config.lockWaitMs).toBe(5_000);
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(config.legacy.dependents.map((d) => d.table)).toEqual(['conversations', 'api_keys']);
  });

  it('defaults to PostgreSQL locks on PostgreSQL and demands real keys there', () => {
    const url = 'postgres://postgres@127.0.0.1/test';
    expect(badKey({ ORGSHIFT_DATABASE_URL: url })).toBe('ORGSHIFT_LEGACY_KEY');
    const config = loadConfig({ ORGSHIFT_DATABASE_URL: url, ORGSHIFT_LEGACY_KEY: KEY, ORGSHIFT_SECRET_KEY: KEY });
    expect(config.lock).toEqual({ kind: 'postgres', url, poolSize: 20 });
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

  it('reads dependent tables and org-level keys from the config file', () => {
    const path = configFile(
      JSON.stringify({ dependents: [{ table: 'notes', payloadColumn: 'body' }], orgSettingsKeys: ['billing_plan'] }),
    );
    const config = loadConfig({ ORGSHIFT_CONFIG: path });
    expect(config.legacy.dependents).toEqual([{ table: 'notes', payloadColumn: 'body' }]);
    expect(config.legacy.orgSettingsKeys).toEqual(['billing_plan']);
  });

  it.each([
    ['{not json', ''],
    [
      JSON.stringify({ dependents: [{ table: 'Bad Name; drop table x', payloadColumn: 'body' }] }),
      'dependents.0.table',
    ],
    [JSON.stringify({ dependents: 'conversations' }), 'dependents'],
    [JSON.stringify({ surprise: true }), ''],
    [JSON.stringify({ legacy: { columns: { id: 'id; --' } } }), 'legacy.columns.id'],
  ])('names the bad key of config file %s', (content, key) => {
    const path = configFile(content);
    const error = (() => {
      try {
        loadConfig({ ORGSHIFT_CONFIG: path });
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

  it('refuses a dependent table listed twice', () => {
    const path = configFile(
      JSON.stringify({
        dependents: [
          { table: 'notes', payloadColumn: 'a' },
          { table: 'notes', payloadColumn: 'b' },
        ],
      }),
    );
    expect(() => loadConfig({ ORGSHIFT_CONFIG: path })).toThrow(ConfigError);
  });
});
