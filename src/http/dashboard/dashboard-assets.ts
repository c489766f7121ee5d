import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

export interface DashboardAssets {
  /** The page, with the hashed asset names filled in. */
  readonly page: Asset;
  /** Assets by the hashed name the page asks for. */
  readonly files: ReadonlyMap<string, Asset>;
}

/** src/http/dashboard and dist/http/dashboard are both three levels below the package root. */
const WEB = new URL('../../../web/dashboard/', import.meta.url);
const require = createRequire(import.meta.url);

const TYPES: Readonly<Record<string, string>> = Object.freeze({
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
  svg: 'image/svg+xml',
});

interface Source {
  /** The placeholder in index.html. */
  readonly slot: string;
  readonly path: string;
}

/** uPlot comes from node_modules, so the page needs no CDN and works on a closed network. */
const SOURCES: readonly Source[] = [
  { slot: 'uplot.js', path: require.resolve('uplot/dist/uPlot.iife.min.js') },
  { slot: 'uplot.css', path: require.resolve('uplot/dist/uPlot.min.css') },
  { slot: 'dashboard.js', path: fileURLToPath(new URL('dashboard.js', WEB)) },
  { slot: 'dashboard.css', path: fileURLToPath(new URL('dashboard.css', WEB)) },
  { slot: 'icon.svg', path: fileURLToPath(new URL('icon.svg', WEB)) },
];

/**
 * Reads the page and its assets once. The page learns whether this server
 * has an admin token, so it asks for it before its first data call instead
 * of after a refusal. Each asset is named after its content
 * hash, so it can be cached for a year and a new version is a new name; the
 * page itself is revalidated on every load.
 */
export function loadDashboardAssets(options: { readonly adminTokenRequired: boolean }): DashboardAssets {
  const files = new Map<string, Asset>();
  let html = readFileSync(new URL('index.html', WEB), 'utf8').replace(
    '{{admin-token}}',
    options.adminTokenRequired ? 'required' : 'loopback',
  );
  for (const source of SOURCES) {
    const body = readFileSync(source.path);
    const hash = hashOf(body);
    const extension = source.slot.slice(source.slot.lastIndexOf('.') + 1);
    const name = `${source.slot.slice(0, -extension.length - 1)}.${hash.slice(0, 12)}.${extension}`;
    files.set(name, { body, contentType: TYPES[extension] ?? 'application/octet-stream', etag: `"${hash}"` });
    html = html.replaceAll(`{{${source.slot}}}`, name);
  }
  const page = Buffer.from(html, 'utf8');
  return { page: { body: page, contentType: TYPES.html as string, etag: `"${hashOf(page)}"` }, files };
}

function hashOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
