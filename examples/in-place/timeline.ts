/**
 * The app's history, fixed so that a seed always yields the same rows: it
 * launched with single-user accounts, shipped organizations four years later
 * (team orgs and native sign-ups start then), and the fixture is a snapshot
 * taken three months after that, before any legacy user was migrated.
 */
export const APP_LAUNCHED = Date.UTC(2021, 2, 1);
export const ORGANIZATIONS_SHIPPED = Date.UTC(2025, 2, 1);
export const SNAPSHOT = Date.UTC(2025, 5, 1);

export const DAY = 86_400_000;
