import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from './metrics.js';

/**
 * Counts in-flight requests and times each one by route pattern (never the
 * raw URL, whose user ids would make one series per user). 'close' fires for
 * every response, also when the client went away before the answer.
 */
export function installHttpMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook('onRequest', (request, reply, done) => {
    metrics.httpInFlight.inc();
    const stop = metrics.httpDuration.startTimer();
    reply.raw.once('close', () => {
      metrics.httpInFlight.dec();
      stop({
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      });
    });
    done();
  });
}
