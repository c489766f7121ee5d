/**
 * `npm run bench [-- name …]`: runs each benchmark module (or the named ones),
 * writes its markdown to bench/results/<name>.md and rebuilds BENCHMARKS.md
 * from every result file, so a partial run keeps the other sections.
 *
 * A module exports `run(): Promise<{ name, markdown }>` and measures its
 * baselines in the same process and run as its subject: figures are ratios.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface BenchModule {
  run(): Promise<{ readonly name: string; readonly markdown: string }>;
}

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

/** Order matters only for BENCHMARKS.md; each entry is a file in bench/. */
export const BENCHMARKS = [
  'lock-handoff',
  'hot-path',
  'load-strategies',
  'herd',
  'http-load',
  'backfill',
  'audit',
  'outbox',
];

async function main() {
  const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = requested.length > 0 ? requested : BENCHMARKS.filter((n) => existsSync(join(here, `${n}.ts`)));
  mkdirSync(resultsDir, { recursive: true });
  for (const name of names) {
    process.stderr.write(`bench: ${name}\n`);
    const module = (await import(`./${name}.ts`)) as BenchModule;
    const result = await module.run();
    writeFileSync(join(resultsDir, `${result.name}.md`), `${result.markdown.trim()}\n`);
    process.stdout.write(`${result.markdown.trim()}\n\n`);
  }
  writeBenchmarksMd();
}

function writeBenchmarksMd() {
  const files = readdirSync(resultsDir).filter((f) => f.endsWith('.md'));
  const ordered = [
    ...BENCHMARKS.map((n) => `${n}.md`).filter((f) => files.includes(f)),
    ...files.filter((f) => !BENCHMARKS.includes(f.replace(/\.md$/, ''))),
  ];
  const sections = ordered.map((f) => readFileSync(join(resultsDir, f), 'utf8').trim());
  const header = `# Benchmarks

Produced by \`npm run bench\` (or \`npm run bench -- <name>\` for one section) on the
project's 2-core machine with the local PostgreSQL 15 and Redis 7. Every figure
is compared with a baseline measured in the same process and run; each section
says how noisy it was. Sections are kept in \`bench/results/\` and only the
benchmarks that ran are rewritten.
`;
  writeFileSync(join(here, '..', 'BENCHMARKS.md'), `${header}\n${sections.join('\n\n')}\n`);
}

await main();
