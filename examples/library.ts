/**
 * orgshift as a library, on an in-memory SQLite database with the in-process
 * lock: seed legacy users, read one (migrating it just in time), verify it
 * deeply, and read it again (the fast path: no lock).
 * Run: npx tsx examples/library.ts
 */
import { loadConfig, open, UserNotFoundError } from '../src/index.js';

const orgshift = await open(loadConfig({ ORGSHIFT_DATABASE_URL: 'sqlite::memory:' }), { migrate: true });
try {
  const { sampleIds } = await orgshift.seed({ users: 10, dependents: 2 });
  const id = sampleIds[0] as string;

  const user = await orgshift.getUser(id); // migrates on first access, under the user's lock
  console.log(`${user.email} now lives in ${user.currentOrg.name} as ${user.memberships[0]?.role.name}`);

  const report = await orgshift.verifyUser(id); // legacy row, dependents, settings, secret
  console.log(`deep verification: ${report.ok ? 'clean' : report.violations.map((v) => v.code).join(', ')}`);

  try {
    await orgshift.getUser('00000000-0000-4000-8000-000000000000');
  } catch (error) {
    if (error instanceof UserNotFoundError) console.log(`unknown ids are typed errors: ${error.code}`);
  }
  console.log(await orgshift.status());
} finally {
  await orgshift.close();
}
