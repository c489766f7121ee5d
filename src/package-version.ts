import { createRequire } from 'node:module';

/** package.json's version; src/ and dist/ are both one level below package.json. */
export const PACKAGE_VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { readonly version: string }
).version;
