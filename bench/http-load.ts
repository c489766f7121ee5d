/**
 * HTTP load (ratios in one run, like the targets of docs/design.md#performance-targets): GET /v1/users/:id on
 * migrated users against a bare Fastify route doing one primary-key select
 * through the same pool, on the same server, PostgreSQL + Redis lock.
 *
 * The server runs in a child process (this file with --server), autocannon in
 * this process, so the load generator does not share the server's event loop.
 * Runs are interleaved A B C C B A so drift hits every subject alike.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/config.js';
import { createServer } from '../src/http/create-server.js';
import { createLogger } from '../src/http/logger.js';
import { createMetrics } from '../src/http/metrics.js';
import { internalsOf, type Orgshift, open } from '../src/orgshift.js';
import { createBenchDatabase } from './support/bench-db.js';
import { machineLine, table } from './support/stats.js';

const USERS = 1_000;
const CONNECTIONS = 32;
const SECONDS = 10;
const WARMUP_SECONDS = 2;
/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_SECOND = 100;

interface Subject {
  readonly name: string;
  readonly path: (id: string) => string;
}

const SUBJECTS: readonly Subject[] = [
  { name: 'bare route: one PK select (named prepared)', path: (id) => `/bare/users/${id}` },
  { name: 'bare route: orgshift.getUser (no schema, no auth hook)', path: (id) => `/bare/get-user/${id}` },
  { name: 'GET /v1/users/:id (production route)', path: (id) => `/v1/users/${id}` },
];

interface Measurement {
  readonly rps: number;
  readonly p99Ms: number;
  readonly peakRssMb: number;
  /** Server process CPU (user + system) per answered request: far less sensitive to other load than requests/s. */
  readonly cpuUsPerRequest: number;
}

/** Child mode: the production server plus one bare route, printing its address. */
async function serveChild(): Promise<void> {
  const metrics = createMetrics();
  const orgshift = await open(loadConfig(), { observer: metrics.observer });
  const db = internalsOf(orgshift).db;
  if (db.sql.name !== 'postgres') throw new Error('the HTTP load benchmark needs PostgreSQL');
  const bare = db.prepare('select * from users where id = $1');
  // Access logs off for both subjects: this measures the route, not pino's stdout.
  const app = await createServer(orgshift, { metrics, logger: createLogger({ level: 'warn' }) });
  app.get<{ Params: { id: string } }>('/bare/users/:id', async (request) => {
    const rows = await bare.all([request.params.id]);
    return rows[0];
  });
  // Splits the gap: directory cost (this vs the PK select) and HTTP-layer cost (production route vs this).
  app.get<{ Params: { id: string } }>('/bare/get-user/:id', (request) => orgshift.getUser(request.params.id));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`listening ${address}\n`);
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => orgshift.close())
      .finally(() => process.exit(0));
  });
}

function startServerChild(env: Readonly<Record<string, string>>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--server'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('benchmark server did not start in 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (!match?.[1]) return;
      clearTimeout(timer);
      resolve({ child, url: match[1] });
    });
  });
}

/** CPU seconds (user + system) another process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of another process, from /proc (Linux); NaN elsewhere. */
function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

async function load(url: string, subject: Subject, ids: readonly string[], seconds: number, pid: number) {
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 250);
  const cpuBefore = cpuSeconds(pid);
  try {
    const result = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: seconds,
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => ({
            ...request,
            path: subject.path(ids[Math.floor(Math.random() * ids.length)] as string),
          }),
        },
      ],
    });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${subject.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
    const measurement: Measurement = {
      rps: result['2xx'] / result.duration,
      p99Ms: result.latency.p99,
      peakRssMb: peak,
      cpuUsPerRequest: ((cpuSeconds(pid) - cpuBefore) * 1e6) / result['2xx'],
    };
    return measurement;
  } finally {
    clearInterval(sampler);
  }
}

async function migrateAll(orgshift: Orgshift, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map((id) => orgshift.getUser(id)));
}

export async function run() {
  const bench = await createBenchDatabase('http');
  const orgshift = await open(bench.config(), { migrate: true });
  let server: { child: ChildProcess; url: string } | undefined;
  try {
    await orgshift.seed({ users: USERS, dependents: 1 });
    const rows = await sql<{ id: string }>`select id from legacy_users`.execute(internalsOf(orgshift).db.kysely);
    const ids = rows.rows.map((r) => r.id);
    await migrateAll(orgshift, ids);
    // Fresh tables have no statistics and no visibility map yet; production tables do.
    await sql`vacuum analyze`.execute(internalsOf(orgshift).db.kysely);
    server = await startServerChild(bench.env);
    const pid = server.child.pid as number;
    const loadBefore = loadavg()[0] ?? Number.NaN;
    for (const subject of SUBJECTS) await load(server.url, subject, ids, WARMUP_SECONDS, pid);
    const results = new Map<string, Measurement[]>();
    for (const subject of [...SUBJECTS, ...[...SUBJECTS].reverse()]) {
      const measured = await load(server.url, subject, ids, SECONDS, pid);
      results.set(subject.name, [...(results.get(subject.name) ?? []), measured]);
    }
    return { name: 'http-load', markdown: render(results, { before: loadBefore, after: loadavg()[0] ?? Number.NaN }) };
  } finally {
    server?.child.kill('SIGTERM');
    await orgshift.close();
    await bench.drop();
  }
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** "1234 (1200, 1268)": the mean and every run, so two runs show their own noise. */
function meanAndRuns(values: readonly number[], digits = 0): string {
  return `${mean(values).toFixed(digits)} (${values.map((v) => v.toFixed(digits)).join(', ')})`;
}

interface LoadAverage {
  readonly before: number;
  readonly after: number;
}

function render(results: ReadonlyMap<string, readonly Measurement[]>, load: LoadAverage): string {
  const of = (subject: Subject) => results.get(subject.name) ?? [];
  const [bare, direct, route] = SUBJECTS.map(of) as [Measurement[], Measurement[], Measurement[]];
  const rows = SUBJECTS.map((subject) => {
    const runs = of(subject);
    return [
      subject.name,
      meanAndRuns(runs.map((m) => m.rps)),
      meanAndRuns(runs.map((m) => m.p99Ms)),
      meanAndRuns(runs.map((m) => m.cpuUsPerRequest)),
      meanAndRuns(runs.map((m) => m.peakRssMb)),
    ];
  });
  const rps = (runs: readonly Measurement[]) => mean(runs.map((m) => m.rps));
  const cpu = (runs: readonly Measurement[]) => mean(runs.map((m) => m.cpuUsPerRequest));
  // Runs were A B C C B A: pass i of one subject is paired with pass i of another.
  const perPass = (a: readonly Measurement[], b: readonly Measurement[]) =>
    a.map((m, i) => (m.rps / (b[i]?.rps ?? Number.NaN)).toFixed(2)).join(', ');
  return `## HTTP load: GET /v1/users/:id vs a bare route (PostgreSQL + Redis)

\`npm run bench -- http-load\`. ${machineLine()} Server in a child process
(orgshift's createServer, pool of 10, access log off), autocannon in the parent with
${CONNECTIONS} connections, a random one of ${USERS} migrated users per request, ${SECONDS} s per run,
each subject run twice (A B C C B A, after a ${WARMUP_SECONDS} s warm-up each). Figures are the mean of
the two runs followed by each run. Server CPU is the server process's user + system time per
answered request (PostgreSQL's share not included), RSS its peak resident set during the run.
Load average (1 min) ${load.before.toFixed(1)} before, ${load.after.toFixed(1)} after: this machine is
shared with other benchmarks, so requests/s of one subject can differ by up to 2× between runs;
CPU per request is the steadier figure.

${table(['subject', 'requests/s', 'p99 ms', 'server CPU µs/request', 'server RSS MB'], rows)}

| comparison | requests/s ratio | per pass | server CPU/request ratio |
| --- | --- | --- | --- |
| production route ÷ bare PK select | **${(rps(route) / rps(bare)).toFixed(2)}** | ${perPass(route, bare)} | ${(cpu(route) / cpu(bare)).toFixed(2)} |
| getUser route ÷ bare PK select (directory cost) | ${(rps(direct) / rps(bare)).toFixed(2)} | ${perPass(direct, bare)} | ${(cpu(direct) / cpu(bare)).toFixed(2)} |
| production route ÷ getUser route (HTTP-layer cost) | ${(rps(route) / rps(direct)).toFixed(2)} | ${perPass(route, direct)} | ${(cpu(route) / cpu(direct)).toFixed(2)} |

The bare PK route answers \`select * from users where id = $1\` as JSON with no schema, auth hook or
verification; the production route loads the user, its orgs, memberships and legacy status in one
prepared query, verifies the graph and serializes through its response schema. Both go through the
same hooks (request id, metrics, Retry-After guard).`;
}

if (process.argv.includes('--server') && process.argv[1] === fileURLToPath(import.meta.url)) {
  await serveChild();
}
