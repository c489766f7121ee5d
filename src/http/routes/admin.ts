import type { FastifyPluginAsync } from 'fastify';
import type { Orgshift } from '../../orgshift.js';
import { requireToken } from '../auth.js';
import { auditReportSchema, errorResponses, rollbackReportSchema, statusSchema, userIdParams } from '../schemas.js';

export interface AdminRoutesOptions {
  readonly orgshift: Orgshift;
  readonly adminToken: string | undefined;
}

const security = [{ adminToken: [] }];

interface UserIdRoute {
  readonly Params: { readonly id: string };
}

/** /v1/admin: operations, behind the admin token (the API token is refused). */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, { orgshift, adminToken }) => {
  app.addHook('onRequest', requireToken('admin', adminToken));

  app.get(
    '/v1/admin/status',
    {
      schema: {
        summary: 'legacy total, migrated, pending, failed; outbox pending and dead; lock backend health',
        tags: ['admin'],
        security,
        response: { 200: statusSchema, ...errorResponses(401, 500, 503) },
      },
    },
    async () => {
      const [counts, health] = await Promise.all([orgshift.status(), orgshift.health()]);
      return { ...counts, lock: { kind: orgshift.locks.kind, healthy: health.lock } };
    },
  );

  app.get(
    '/v1/admin/audit',
    {
      schema: {
        summary: 'set-based integrity audit of the whole database',
        tags: ['admin'],
        security,
        response: { 200: auditReportSchema, ...errorResponses(401, 500, 503) },
      },
    },
    () => orgshift.audit(),
  );

  app.post<UserIdRoute>(
    '/v1/admin/users/:id/rollback',
    {
      schema: {
        summary: "reverses one user's migration under its lock (personal org with a single member only)",
        tags: ['admin'],
        security,
        params: userIdParams,
        response: { 200: rollbackReportSchema, ...errorResponses(400, 401, 404, 409, 500, 503) },
      },
    },
    (request) => orgshift.rollbackUser(request.params.id),
  );
};
