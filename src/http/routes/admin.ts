import type { FastifyPluginAsync } from 'fastify';
import { internalsOf, type Orgshift } from '../../orgshift.js';
import { describeKey, keyPattern } from '../../schema-map/user-key.js';
import { requireToken } from '../auth.js';
import {
  auditReportSchema,
  errorResponses,
  rollbackBody,
  rollbackQuery,
  rollbackReportSchema,
  statusSchema,
  userIdParams,
} from '../schemas.js';

export interface AdminRoutesOptions {
  readonly orgshift: Orgshift;
  readonly adminToken: string | undefined;
  /** Decides what an unset admin token means (see requireToken). */
  readonly apiToken: string | undefined;
}

const security = [{ adminToken: [] }];

interface RollbackRoute {
  readonly Params: { readonly id: string };
  readonly Querystring: { readonly dryRun?: boolean };
  readonly Body: { readonly dryRun?: boolean } | undefined;
}

/** /v1/admin: operations, behind the admin token (the API token is refused). */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, { orgshift, adminToken, apiToken }) => {
  app.addHook('onRequest', requireToken('admin', { apiToken, adminToken }));
  const key = internalsOf(orgshift).sql.model.legacy.key;

  app.get(
    '/v1/admin/status',
    {
      schema: {
        summary: 'legacy total, migrated, pending, failed; outbox pending and dead; lock backend health',
        tags: ['admin'],
        security,
        response: { 200: statusSchema, ...errorResponses(401, 403, 500, 503) },
      },
    },
    async () => {
      const [counts, health] = await Promise.all([orgshift.status(), orgshift.health()]);
      return { ...counts, lock: { kind: orgshift.lockKind, healthy: health.lock } };
    },
  );

  app.get(
    '/v1/admin/audit',
    {
      schema: {
        summary: 'set-based integrity audit of the whole database',
        tags: ['admin'],
        security,
        response: { 200: auditReportSchema, ...errorResponses(401, 403, 500, 503) },
      },
    },
    () => orgshift.audit(),
  );

  app.post<RollbackRoute>(
    '/v1/admin/users/:id/rollback',
    {
      schema: {
        summary:
          "reverses one user's migration under its lock; ?dryRun=true reports what would be restored and discarded and changes nothing",
        tags: ['admin'],
        security,
        params: userIdParams(keyPattern(key), describeKey(key)),
        querystring: rollbackQuery,
        body: rollbackBody,
        // 413 and 415: a body is read, and refused when too large or not JSON.
        response: { 200: rollbackReportSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 500, 503) },
      },
      // No body is an empty one: the schema checks a body only to refuse what it does not know.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    (request) =>
      orgshift.rollbackUser(request.params.id, {
        // Either place asking for a dry run gets one: the safe reading of a contradiction.
        dryRun: request.query.dryRun === true || request.body?.dryRun === true,
      }),
  );
};
