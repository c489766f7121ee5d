/**
 * `npm run chaos [-- --users N --seconds S]`: two `orgshift serve` processes
 * and a backfill on PostgreSQL + a Redis of its own, random load, and faults
 * injected while it runs: server SIGKILLs (restarted), Redis restarts,
 * pg_terminate_backend on the service's connections, CLIENT PAUSE longer than
 * the lock TTL. Every process delivers the outbox's events to a webhook
 * receiver that fails a share of requests, leaves some unanswered and goes
 * down twice for a few seconds. Then the proof: audit, deep verification of
 * every user, exact row counts, exactly one distinct user.migrated event id
 * delivered per migrated user and none for anyone else, nothing dead, and a
 * scan of every log for the seeded secrets and the webhook URL's
 * credentials. Exits non-zero on any violation, duplicate, unexpected
 * status, 503 outside a fault or without Retry-After, or secret in a log.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config/config.js';
import { SecretCipher } from '../src/crypto/secret-cipher.js';
import { internalsOf, type Orgshift, open } from '../src/orgshift.js';
import { FAULT_KINDS, type FaultKind, FaultLog, pauseRedis, terminateServiceConnections } from './faults.js';
import { driveLoad } from './load.js';
import { type OutboxProof, proveOutbox } from './outbox-proof.js';
import { freePort, type Managed, ProcessSet, waitForHttp } from './processes.js';
import { ChaosReceiver } from './receiver.js';

const ADMIN_URL = process.env.ORGSHIFT_CHAOS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LOCK_TTL_MS = 2_000;
const PAUSE_MS = 3_000;
const GRACE_MS = 5_000;
const WEBHOOK_SECRET = randomBytes(24).toString('hex');
/** Credentials in the webhook URL: they must reach the receiver and no log. */
const WEBHOOK_PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const WEBHOOK_TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const RECEIVER_OUTAGE_MS = 3_000;
const DRAIN_TIMEOUT_MS = 180_000;

const { values } = parseArgs({
  options: { users: { type: 'string', default: '3000' }, seconds: { type: 'string', default: '45' } },
});
const USERS = Number(values.users);
const SECONDS = Number(values.seconds);
if (!Number.isInteger(USERS) || USERS < 10 || !(SECONDS >= 10)) {
  console.error('usage: npm run chaos -- --users N (≥ 10) --seconds S (≥ 10)');
  process.exit(2);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => console.error(`chaos: ${line}`);

async function adminQuery(text: string) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const runDir = mkdtempSync(join(tmpdir(), 'orgshift-chaos-'));
const database = `orgshift_chaos_${Date.now().toString(36)}`;
const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString();
const processes = new ProcessSet(runDir);
const faults = new FaultLog(GRACE_MS);
const failures: string[] = [];

async function main(): Promise<number> {
  await adminQuery(`create database ${database}`);
  const redisPort = await freePort();
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const startRedis = () =>
    processes.start('redis', 'redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no'], {});
  let redis = startRedis();
  await sleep(300);
  const receiver = new ChaosReceiver({ secret: WEBHOOK_SECRET, failShare: 0.15, hangShare: 0.02 });
  await receiver.start();
  const env: Record<string, string> = {
    ORGSHIFT_DATABASE_URL: databaseUrl,
    ORGSHIFT_DATABASE_POOL_SIZE: '8',
    ORGSHIFT_LOCK: 'redis',
    ORGSHIFT_REDIS_URL: redisUrl,
    ORGSHIFT_REDIS_PREFIX: 'chaos:',
    ORGSHIFT_LOCK_TTL_MS: String(LOCK_TTL_MS),
    ORGSHIFT_LOCK_WAIT_MS: '2000',
    ORGSHIFT_LEGACY_KEY: createHash('sha256').update('orgshift-chaos-legacy-key').digest('base64'),
    ORGSHIFT_SECRET_KEY: createHash('sha256').update('orgshift-chaos-current-key').digest('base64'),
    ORGSHIFT_SHUTDOWN_GRACE_MS: '5000',
    ORGSHIFT_WEBHOOK_URL: `http://chaos:${WEBHOOK_PASSWORD}@127.0.0.1:${receiver.port}/hooks?token=${WEBHOOK_TOKEN}`,
    ORGSHIFT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    // A killed process's leases expire after 2 × 2 s + 1 s; retries start at 200 ms and stay under 2 s.
    ORGSHIFT_WEBHOOK_TIMEOUT_MS: '2000',
    ORGSHIFT_OUTBOX_RETRY_BASE_MS: '200',
    ORGSHIFT_OUTBOX_RETRY_MAX_MS: '2000',
    ORGSHIFT_OUTBOX_POLL_MS: '200',
  };
  const orgshift = await open(loadConfig(env), { migrate: true });
  try {
    log(`seeding ${USERS} legacy users in ${database}; logs in ${runDir}`);
    await orgshift.seed({ users: USERS, dependents: 1, apiKeyShare: 1 });
    const { ids, plaintexts } = await legacySecrets(orgshift, env);

    const ports = [await freePort(), await freePort()];
    const servers: Managed[] = [];
    const killing = new Set<number>();
    let stopping = false;
    const startServer = async (i: number) => {
      const server = processes.orgshift(`server-${i}`, ['serve'], { ...env, ORGSHIFT_PORT: String(ports[i]) });
      servers[i] = server;
      // A server that dies on its own (not our SIGKILL, not the final SIGTERM) has crashed:
      // the run fails, and a supervisor's restart keeps the rest of the run meaningful.
      void server.exited.then(async (code) => {
        if (killing.has(i) || stopping) return;
        failures.push(`server-${i} crashed (exit ${code}); see ${runDir}/server-${i}.log`);
        await startServer(i).catch(() => undefined);
      });
      await waitForHttp(`http://127.0.0.1:${ports[i]}/healthz`);
    };
    await Promise.all([0, 1].map(startServer));
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);

    const stop = new AbortController();
    const backfillRestarts = superviseBackfill(env, stop.signal);
    const load = driveLoad({ servers: () => urls, legacyIds: ids, concurrency: 16, faults, stop: stop.signal });
    const outages = receiverOutages(receiver, stop.signal);

    const injectors: Record<FaultKind, () => Promise<void>> = {
      'server SIGKILL': async () => {
        const i = Math.floor(Math.random() * 2);
        killing.add(i);
        servers[i]?.child.kill('SIGKILL');
        await servers[i]?.exited;
        await sleep(500);
        await startServer(i);
        killing.delete(i);
      },
      'Redis restart': async () => {
        redis.child.kill('SIGKILL');
        await redis.exited;
        await sleep(1_000);
        redis = startRedis();
        await sleep(300);
      },
      pg_terminate_backend: async () => {
        const n = await terminateServiceConnections(ADMIN_URL, database);
        log(`terminated ${n} service connections`);
      },
      'Redis CLIENT PAUSE > TTL': () => pauseRedis(redisUrl, PAUSE_MS),
    };
    const cycles = Math.max(1, Math.floor(SECONDS / 60));
    const schedule = Array.from({ length: cycles }, () => FAULT_KINDS).flat();
    const gap = (SECONDS * 1000) / (schedule.length + 1);
    const started = Date.now();
    for (const [n, kind] of schedule.entries()) {
      await sleep(Math.max(0, started + gap * (n + 1) - Date.now()));
      log(`fault: ${kind}`);
      await faults.run(kind, injectors[kind]);
    }
    await sleep(Math.max(0, started + SECONDS * 1000 - Date.now()));
    stop.abort();
    const stats = await load;
    const restarts = await backfillRestarts;
    await outages;

    log('stopping servers (SIGTERM) and finishing the backfill');
    stopping = true;
    for (const server of servers) server.child.kill('SIGTERM');
    const serverExits = await Promise.all(servers.map((s) => s.exited));
    if (serverExits.some((code) => code !== 0))
      failures.push(`a server exited with ${serverExits.join(', ')} after SIGTERM`);
    const finalBackfill = processes.orgshift('backfill-final', ['backfill', '--json'], env);
    if ((await finalBackfill.exited) !== 0) failures.push('the final backfill did not finish cleanly');
    log('delivering what is left of the outbox (orgshift outbox run --drain)');
    const drain = processes.orgshift('outbox-drain', ['outbox', 'run', '--drain', '--json'], env);
    const drained = await Promise.race([drain.exited, sleep(DRAIN_TIMEOUT_MS).then(() => 'timeout' as const)]);
    if (drained !== 0) failures.push(`outbox run --drain ended with ${drained} (see ${runDir}/outbox-drain.log)`);

    const audit = processes.orgshift('audit', ['audit', '--json'], env);
    const auditExit = await audit.exited;
    if (auditExit !== 0) failures.push(`audit exited ${auditExit} (see ${runDir}/audit.log)`);
    const proof = await prove(orgshift, ids);
    const outboxProof = await proveOutbox(orgshift, receiver);
    failures.push(...proof.problems, ...outboxProof.problems, ...stats.problems.slice(0, 20));
    if (stats.problems.length > 20) failures.push(`… and ${stats.problems.length - 20} more response problems`);
    await processes.stopAll();
    const leaks = await scanLogs(processes.logFiles, plaintexts, [
      env.ORGSHIFT_LEGACY_KEY,
      env.ORGSHIFT_SECRET_KEY,
      WEBHOOK_SECRET,
      WEBHOOK_PASSWORD,
      WEBHOOK_TOKEN,
    ]);
    failures.push(...leaks);
    if (failures.length > 0) {
      // What CI shows is all there is to go on: the servers' own account of what failed, and when.
      failures.push(...faults.timeline(started).map((w) => `fault window ${w}`));
      failures.push(...(await serverErrors(processes.logFiles, started)));
    }
    for (const [kind, n] of faults.counts()) if (n < cycles) failures.push(`fault ${kind} injected ${n} times`);

    printReport({
      stats,
      restarts,
      proof,
      outbox: outboxProof,
      receiver: receiver.tally,
      auditExit,
      seconds: (Date.now() - started) / 1000,
    });
    return failures.length === 0 ? 0 : 1;
  } finally {
    await orgshift.close();
    await processes.stopAll();
    await receiver.stop();
    await adminQuery(`drop database if exists ${database} with (force)`).catch(() => undefined);
  }
}

/** The receiver goes down twice, at about a third and two thirds of the run, for a few seconds each. */
async function receiverOutages(receiver: ChaosReceiver, stop: AbortSignal): Promise<void> {
  const started = Date.now();
  for (const at of [0.3, 0.65]) {
    await sleep(Math.max(0, started + SECONDS * 1000 * at - Date.now()));
    if (stop.aborted) return;
    log(`webhook receiver down for ${RECEIVER_OUTAGE_MS} ms`);
    await receiver.outage(RECEIVER_OUTAGE_MS);
  }
}

/** The seeded ids and their plaintext secrets, decrypted once so the logs can be searched for them. */
async function legacySecrets(orgshift: Orgshift, env: Record<string, string>) {
  const cipher = new SecretCipher(Buffer.from(String(env.ORGSHIFT_LEGACY_KEY), 'base64'));
  const rows = await sql<{ id: string; api_key_enc: string | null }>`
    select id, api_key_enc from legacy_users`.execute(internalsOf(orgshift).db.kysely);
  const plaintexts = new Set(
    rows.rows.filter((r) => r.api_key_enc !== null).map((r) => cipher.decrypt(String(r.api_key_enc), r.id)),
  );
  return { ids: rows.rows.map((r) => r.id), plaintexts };
}

/** Restarts the backfill whenever it dies before the run ends (as a supervisor would); counts the restarts. */
async function superviseBackfill(env: Record<string, string>, stop: AbortSignal): Promise<number> {
  const rate = Math.max(5, Math.ceil(USERS / (SECONDS * 1.5)));
  let restarts = -1;
  while (!stop.aborted) {
    restarts++;
    const backfill = processes.orgshift('backfill', ['backfill', '--rate', String(rate), '--batch-size', '20'], env);
    const exited = await Promise.race([
      backfill.exited,
      new Promise<'stop'>((r) => stop.addEventListener('abort', () => r('stop'))),
    ]);
    if (exited === 'stop') {
      backfill.child.kill('SIGKILL');
      await backfill.exited;
      break;
    }
    if (exited === 0) break;
    await sleep(500);
  }
  return restarts;
}

interface Proof {
  readonly problems: string[];
  readonly legacyMigrated: number;
  readonly users: number;
  readonly orgs: number;
  readonly memberships: number;
  readonly violations: number;
}

/** Exactly once, checked three ways: row counts, the audit, and deep verification of every user. */
async function prove(orgshift: Orgshift, ids: readonly string[]): Promise<Proof> {
  const problems: string[] = [];
  const counts = await sql<Record<string, string>>`
    select (select count(*) from legacy_users where migrated_at is not null) as legacy_migrated,
           (select count(*) from users) as users, (select count(*) from orgs) as orgs,
           (select count(*) from org_members) as memberships`.execute(internalsOf(orgshift).db.kysely);
  const row = counts.rows[0] ?? {};
  const [legacyMigrated, users, orgs, memberships] = ['legacy_migrated', 'users', 'orgs', 'memberships'].map((k) =>
    Number(row[k]),
  ) as [number, number, number, number];
  for (const [name, n] of Object.entries({ legacyMigrated, users, orgs, memberships })) {
    if (n !== ids.length) problems.push(`${name} = ${n}, expected ${ids.length}`);
  }
  let violations = 0;
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
        const report = await orgshift.verifyUser(id);
        if (!report.ok) {
          violations++;
          if (violations <= 10) problems.push(`${id}: ${report.violations.map((v) => v.code).join(', ')}`);
        }
      }
    }),
  );
  return { problems, legacyMigrated, users, orgs, memberships, violations };
}

async function scanLogs(
  files: readonly string[],
  plaintexts: ReadonlySet<string>,
  keys: readonly (string | undefined)[],
) {
  const leaks: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const found = (text.match(/sk-legacy-[0-9a-f]{48}/g) ?? []).filter((s) => plaintexts.has(s));
    if (found.length > 0) leaks.push(`${found.length} seeded secret(s) in ${file}`);
    for (const key of keys) if (key && text.includes(key)) leaks.push(`a key or credential in ${file}`);
  }
  return leaks;
}

/** Error-level records of the servers' logs (type, code, message, top frames), at most 10. */
async function serverErrors(files: readonly string[], origin: number): Promise<string[]> {
  const found: string[] = [];
  for (const file of files.filter((f) => /server-\d+\.log$/.test(f))) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.includes('"level":50') || found.length >= 10) continue;
      try {
        const record = JSON.parse(line) as { time?: number; msg?: string; req?: { url?: string }; err?: ErrorRecord };
        const err = record.err ?? {};
        const frames = (err.stack ?? '')
          .split('\n')
          .slice(1, 5)
          .map((f) => f.trim());
        const at = record.time === undefined ? '?' : ((record.time - origin) / 1000).toFixed(1);
        found.push(
          `${basename(file)} at ${at} s, ${record.req?.url ?? ''}: ${record.msg} — ${err.type ?? ''} ${err.code ?? ''} ${String(err.message ?? '').slice(0, 300)} | ${frames.join(' | ')}`,
        );
      } catch {
        found.push(`${basename(file)}: ${line.slice(0, 300)}`);
      }
    }
  }
  return found;
}

interface ErrorRecord {
  readonly type?: string;
  readonly code?: string;
  readonly message?: string;
  readonly stack?: string;
}

function printReport(r: {
  stats: Awaited<ReturnType<typeof driveLoad>>;
  restarts: number;
  proof: Proof;
  outbox: OutboxProof;
  receiver: ChaosReceiver['tally'];
  auditExit: number | null;
  seconds: number;
}) {
  const lines = [
    `## Chaos run: ${USERS} users, ${r.seconds.toFixed(0)} s`,
    '',
    '| requests by status | count |',
    '| --- | --- |',
    ...[...r.stats.byStatus.entries()].sort().map(([status, n]) => `| ${status} | ${n} |`),
    '',
    '| fault injected | times |',
    '| --- | --- |',
    ...[...faults.counts().entries()].map(([kind, n]) => `| ${kind} | ${n} |`),
    `| backfill restarted after dying | ${r.restarts} |`,
    `| webhook receiver outages (${RECEIVER_OUTAGE_MS / 1000} s each) | ${r.receiver.outages} |`,
    `| webhook requests answered 500 / left unanswered | ${r.receiver.failed} / ${r.receiver.hung} |`,
    '',
    '| proof | value |',
    '| --- | --- |',
    `| legacy users | ${USERS} |`,
    `| migrated (legacy rows marked) | ${r.proof.legacyMigrated} |`,
    `| users / orgs / memberships | ${r.proof.users} / ${r.proof.orgs} / ${r.proof.memberships} |`,
    `| deep-verification violations | ${r.proof.violations} |`,
    `| audit exit code | ${r.auditExit} |`,
    `| response problems (bad status, 503 outside faults or without Retry-After) | ${r.stats.problems.length} |`,
    `| outbox events (all delivered: ${r.outbox.undelivered === 0 ? 'yes' : `no, ${r.outbox.undelivered} left`}) / dead | ${r.outbox.events} / ${r.outbox.dead} |`,
    `| migrated users with exactly one distinct user.migrated id delivered | ${r.outbox.usersWithOneEvent} of ${r.proof.legacyMigrated} |`,
    `| webhook requests / accepted repeats of an already accepted id / bad signatures | ${r.receiver.requests} / ${r.outbox.repeats} / ${r.receiver.badSignatures} |`,
    '',
    failures.length === 0 ? 'RESULT: PASS' : `RESULT: FAIL\n${failures.map((f) => `- ${f}`).join('\n')}`,
  ];
  console.log(lines.join('\n'));
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
});
setTimeout(() => process.exit(), 2_000).unref();
