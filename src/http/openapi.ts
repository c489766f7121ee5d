import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { PACKAGE_VERSION } from '../package-version.js';

/**
 * Registers @fastify/swagger; must run before any route is added, since it
 * collects routes as they are registered. /openapi.json describes itself too.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'orgshift',
        description:
          'Users migrated just in time from single-user accounts to organizations, verified on every read. ' +
          'Errors are `{ "error": { "code", "message" } }`; every 503 carries Retry-After. ' +
          '/v1/users needs ORGSHIFT_API_TOKEN and /v1/admin needs ORGSHIFT_ADMIN_TOKEN as a bearer token; ' +
          'without any token both scopes answer local clients only (a request carrying Forwarded or ' +
          'X-Forwarded-For is never local); with ORGSHIFT_API_TOKEN set and no ORGSHIFT_ADMIN_TOKEN the admin ' +
          'routes answer 403 admin_disabled. ' +
          'Probes, /metrics and this document are open, and so is the /dashboard page once an admin token is set ' +
          '(it holds no data; its data calls carry the token).',
        version: PACKAGE_VERSION,
      },
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'ORGSHIFT_API_TOKEN' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'ORGSHIFT_ADMIN_TOKEN' },
        },
      },
      tags: [
        { name: 'users', description: 'lock-load-verify reads' },
        { name: 'admin', description: 'operations (admin token)' },
        {
          name: 'dashboard',
          description:
            'the live migration page: /dashboard holds no data and asks for the admin token, ' +
            'which it sends as a bearer header to /v1/admin/dashboard',
        },
        { name: 'probes', description: 'liveness, readiness, metrics, this document' },
      ],
    },
  });
  app.get('/openapi.json', { schema: { summary: 'this OpenAPI document', tags: ['probes'] } }, async () =>
    app.swagger(),
  );
}
