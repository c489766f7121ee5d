import type { FastifyPluginAsync } from 'fastify';
import type { Health, Orgshift } from '../../orgshift.js';
import { readinessSchema } from '../schemas.js';

export interface ProbeRoutesOptions {
  readonly orgshift: Orgshift;
  /** A readiness probe that hangs is worse than one that says no. */
  readonly readinessTimeoutMs?: number;
}

const DOWN: Health = Object.freeze({ database: false, lock: false });

function healthWithin(orgshift: Orgshift, ms: number): Promise<Health> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Health>((resolve) => {
    timer = setTimeout(() => resolve(DOWN), ms);
  });
  return Promise.race([orgshift.health().catch(() => DOWN), timeout]).finally(() => clearTimeout(timer));
}

function notReadyMessage(health: Health): string {
  const down = [health.database ? null : 'database', health.lock ? null : 'lock backend'].filter(Boolean);
  return `${down.join(' and ')} unreachable`;
}

/** Liveness and readiness; open to everyone, like the probes that call them. */
export const probeRoutes: FastifyPluginAsync<ProbeRoutesOptions> = async (app, { orgshift, readinessTimeoutMs }) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'liveness: the process answers',
        tags: ['probes'],
        response: { 200: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } } },
      },
    },
    async () => ({ ok: true }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'readiness: the database and the lock backend are reachable',
        tags: ['probes'],
        response: { 200: readinessSchema, 503: readinessSchema },
      },
    },
    async (_request, reply) => {
      const health = await healthWithin(orgshift, readinessTimeoutMs ?? 2_000);
      const ready = health.database && health.lock;
      if (ready) return { ready, ...health };
      reply.code(503).header('retry-after', '5');
      return { ready, ...health, error: { code: 'not_ready', message: notReadyMessage(health) } };
    },
  );
};
