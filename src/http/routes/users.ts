import type { FastifyPluginAsync } from 'fastify';
import { internalsOf, type Orgshift } from '../../orgshift.js';
import { describeKey, keyPattern } from '../../schema-map/user-key.js';
import { requireToken } from '../auth.js';
import { errorResponses, userIdParams, userSchema, verifyReportSchema } from '../schemas.js';

export interface UserRoutesOptions {
  readonly orgshift: Orgshift;
  readonly apiToken: string | undefined;
}

interface UserIdRoute {
  readonly Params: { readonly id: string };
}

const security = [{ apiToken: [] }];

/** /v1/users: lock-load-verify reads, behind the API token. */
export const userRoutes: FastifyPluginAsync<UserRoutesOptions> = async (app, { orgshift, apiToken }) => {
  app.addHook('onRequest', requireToken('api', { apiToken, adminToken: undefined }));
  const key = internalsOf(orgshift).sql.model.legacy.key;
  const params = userIdParams(keyPattern(key), describeKey(key));

  app.get<UserIdRoute>(
    '/v1/users/:id',
    {
      schema: {
        summary: 'the user, migrated just in time on first access and verified',
        tags: ['users'],
        security,
        params,
        // 409: several legacy rows share the key (legacy_key_duplicate); no migration can take it.
        response: { 200: userSchema, ...errorResponses(400, 401, 404, 409, 500, 503) },
      },
    },
    (request) => orgshift.getUser(request.params.id),
  );

  app.get<UserIdRoute>(
    '/v1/users/:id/verification',
    {
      schema: {
        summary: 'deep verification of one user (legacy row, dependents, fidelity); never migrates',
        tags: ['users'],
        security,
        params,
        response: { 200: verifyReportSchema, ...errorResponses(400, 401, 404, 500, 503) },
      },
    },
    (request) => orgshift.verifyUser(request.params.id),
  );
};
