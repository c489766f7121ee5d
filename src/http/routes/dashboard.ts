import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Orgshift } from '../../orgshift.js';
import { requireToken } from '../auth.js';
import { type Asset, loadDashboardAssets } from '../dashboard/dashboard-assets.js';
import { type DashboardSettings, dashboardDocuments } from '../dashboard/dashboard-document.js';
import type { ServerMetrics } from '../metrics.js';
import { dashboardSchema, errorResponses } from '../schemas.js';

export interface DashboardRoutesOptions {
  readonly orgshift: Orgshift;
  readonly metrics: ServerMetrics;
  readonly apiToken: string | undefined;
  readonly adminToken: string | undefined;
  readonly settings?: DashboardSettings;
}

/**
 * Same-origin everything: the page may load scripts and styles from this
 * server only, talk to this server only, and never be framed or post a form.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const YEAR_SECONDS = 365 * 24 * 3600;

/**
 * The dashboard: /dashboard (the page), /dashboard/assets/* (its scripts and
 * styles) and /v1/admin/dashboard (its data, behind the admin token exactly
 * like /v1/admin/*).
 *
 * The page and its assets carry no data and are the same bytes for everyone.
 * A browser navigating to /dashboard cannot send a bearer header, so once an
 * admin token is configured the page is served to anyone and asks for the
 * token before its first data call; without a configured admin token it
 * answers exactly whom the admin routes answer (loopback clients).
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardRoutesOptions> = async (app, options) => {
  await app.register(pageRoutes, { apiToken: options.apiToken, adminToken: options.adminToken });
  await app.register(dataRoute, options);
};

interface PageOptions {
  readonly apiToken: string | undefined;
  readonly adminToken: string | undefined;
}

const pageRoutes: FastifyPluginAsync<PageOptions> = async (app, { apiToken, adminToken }) => {
  const assets = loadDashboardAssets({ adminTokenRequired: adminToken !== undefined });
  // Without an admin token the page answers exactly whom the admin routes answer (loopback, or nobody
  // once an API token is set: admin_disabled).
  if (adminToken === undefined) app.addHook('onRequest', requireToken('admin', { apiToken, adminToken }));

  app.get(
    '/dashboard',
    {
      schema: {
        summary: 'the live migration dashboard (HTML); its data comes from GET /v1/admin/dashboard',
        tags: ['dashboard'],
        response: {
          200: { description: 'the page', content: { 'text/html': { schema: { type: 'string' } } } },
          ...errorResponses(401, 403),
        },
      },
    },
    (request, reply) => sendAsset(request, reply, assets.page, 'no-cache'),
  );

  app.get<{ Params: { readonly file: string } }>(
    '/dashboard/assets/:file',
    { schema: { hide: true } },
    (request, reply) => {
      const asset = assets.files.get(request.params.file);
      if (asset === undefined) {
        return reply.code(404).send({ error: { code: 'not_found', message: 'no such dashboard asset' } });
      }
      return sendAsset(request, reply, asset, `public, max-age=${YEAR_SECONDS}, immutable`);
    },
  );
};

const dataRoute: FastifyPluginAsync<DashboardRoutesOptions> = async (app, options) => {
  app.addHook('onRequest', requireToken('admin', { apiToken: options.apiToken, adminToken: options.adminToken }));
  const documents = dashboardDocuments(options.orgshift, options.metrics, options.settings);
  app.get(
    '/v1/admin/dashboard',
    {
      schema: {
        summary: 'the dashboard document: totals, per-minute history, rate and ETA, failures, share, lock waits, audit',
        tags: ['admin', 'dashboard'],
        security: [{ adminToken: [] }],
        response: { 200: dashboardSchema, ...errorResponses(401, 403, 500, 503) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return documents();
    },
  );
};

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset, cacheControl: string) {
  reply.headers({
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': cacheControl,
    etag: asset.etag,
  });
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.contentType).send(asset.body);
}
