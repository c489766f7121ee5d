import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { describe } from 'vitest';
import { IN_CI } from './services.js';

/**
 * Browser tests drive Debian's `chromium` package through playwright-core;
 * no browser is ever downloaded. Without it a local run skips them loudly;
 * with CI=true a Chromium that cannot start fails the run (.ci/run installs it).
 */
export const CHROMIUM_PATH = process.env.ORGSHIFT_TEST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile of its own, removed on close. */
export async function launchChromium(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'orgshift-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 1000 },
      timeout: 30_000,
    });
    return {
      context,
      async close() {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

async function probe(): Promise<string | undefined> {
  try {
    const browser = await launchChromium();
    await browser.close();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

const problem = await probe();
if (problem !== undefined) {
  if (IN_CI) throw new Error(`CI=true and Chromium (${CHROMIUM_PATH}) cannot start: ${problem}`);
  const line = '!'.repeat(78);
  console.warn(
    `\n${line}\n!! CHROMIUM CANNOT START (${CHROMIUM_PATH}): ${problem}\n!! The browser tests were SKIPPED. Install it: apt-get install -y chromium\n!! Set CI=true to make this a failure.\n${line}\n`,
  );
}

export const hasChromium = problem === undefined;
export const describeBrowser = describe.skipIf(!hasChromium);
