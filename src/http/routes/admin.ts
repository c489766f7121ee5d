import type { FastifyPluginAsync } from 'fastify';
import type { Orgshift } from '../../orgshift.js';
import { requireToken } from '../auth.js';
import { errorResponses, statusSchema } from '../schemas.js';

export interface AdminRoutesOptions {
  readonly orgshift: Orgshift;
  readonly adminToken: string | undefined;
}

const security = [{ adminToken: [] }];

/** /v1/admin: operations, behind the admin token (the API token is refused). */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, { orgshift, adminToken }) => {
  app.addHook('onRequest', requireToken('admin', adminToken));

  app.get(
    '/v1/admin/status',
    {
      schema: {
        summary: 'legacy total, migrated, pending, failed; lock backend health',
        tags: ['admin'],
        security,
        response: { 200: statusSchema, ...errorResponses(401, 503) },
      },
    },
    async () => {
      const [counts, health] = await Promise.all([orgshift.status(), orgshift.health()]);
      return { ...counts, lock: { kind: orgshift.locks.kind, healthy: health.lock } };
    },
  );
};
