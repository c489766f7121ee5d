import type { FastifyPluginAsync } from 'fastify';
import type { ServerMetrics } from '../metrics.js';

export interface MetricsRouteOptions {
  readonly metrics: ServerMetrics;
}

/** Prometheus exposition; open like the probes, since scrapers rarely carry tokens. */
export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['probes'],
        response: {
          200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
