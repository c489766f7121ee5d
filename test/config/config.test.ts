import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';
import { DEMO_MAP, DEMO_ORIGIN } from '../../src/schema-map/demo-map.js';

const KEY = Buffer.alloc(32, 1).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 2).toString('base64');
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
});
