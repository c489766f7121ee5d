import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { internalsOf, type Orgshift } from '../orgshift.js';
import { AccessLog } from './access-log.js';
import type { DashboardSettings } from './dashboard/dashboard-document.js';
import { DEFAULT_RETRY_AFTER_SECONDS, toErrorReply } from './error-mapping.js';
import { HttpError } from './http-error.js';
import { capConnections, DEFAULT_HTTP_LIMITS, fastifyLimitOptions, type HttpLimits } from './http-limits.js';
import { installHttpMetrics } from './http-metrics.js';
import { createLogger } from './logger.js';
import { trackRouteMethods } from './method-not-allowed.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import { adminRoutes } from './routes/admin.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { metricsRoute } from './routes/metrics.js';
import { probeRoutes } from './routes/probes.js';
import { userRoutes } from './routes/users.js';

export interface ServerOptions {
  /** Defaults to `orgshift.config.http.apiToken`. */
  readonly apiToken?: string;
  /** Defaults to `orgshift.config.http.adminToken`. */
  readonly adminToken?: string;
  /**
   * The registry /metrics serves. Create it with `createMetrics()` and pass its
   * `observer` to `open()` so the directory's lookups and migrations appear;
   * without it the server counts HTTP and process metrics only.
   */
  readonly metrics?: ServerMetrics;
  /** A pino logger (see `createLogger`); info level on stdout by default. */
  readonly logger?: FastifyBaseLogger;
  /** Largest accepted body; no route takes more than a few bytes. */
  readonly bodyLimit?: number;
  /** Timeouts and the connection cap; `DEFAULT_HTTP_LIMITS` when omitted. */
  readonly limits?: HttpLimits;
  /** Refresh interval and history window of /dashboard. */
  readonly dashboard?: DashboardSettings;
}

/**
 * The HTTP service (docs/design.md#interfaces) over an open orgshift. The caller listens and
 * closes; closing the server does not close orgshift (see serve.ts for the
 * shutdown order).
 */
export async function createServer(orgshift: Orgshift, options: ServerOptions = {}): Promise<FastifyInstance> {
  const metrics = options.metrics ?? createMetrics();
  const outbox = internalsOf(orgshift).outbox;
  metrics.watchOutbox(() => outbox.counts());
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  const app = Fastify({
    ...fastifyLimitOptions(limits),
    loggerInstance: options.logger ?? createLogger(),
    logController: new AccessLog(),
    genReqId: requestIdOf,
    requestIdHeader: false,
    bodyLimit: options.bodyLimit ?? 16 * 1024,
    // Text user keys may be up to 255 characters (the router's default stops at 100).
    routerOptions: { maxParamLength: 300 },
    // Our own 503 below carries Retry-After and the documented error JSON.
    return503OnClosing: false,
    // Router-level rejections (malformed URL, over-long parameter) skip the hooks; same JSON anyway.
    frameworkErrors: (error, request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      sendError(error, request, reply);
    },
  });

  capConnections(app.server, limits);
  // JSON only: anything else is 415 rather than a string body no route expects.
  app.removeContentTypeParser('text/plain');
  installHttpMetrics(app, metrics);
  installRequestPlumbing(app);
  installErrorHandling(app);

  await registerOpenApi(app);
  const finishRoutes = trackRouteMethods(app);
  const http = internalsOf(orgshift).config.http;
  const apiToken = options.apiToken ?? http.apiToken;
  const adminToken = options.adminToken ?? http.adminToken;
  await app.register(userRoutes, { orgshift, apiToken });
  await app.register(adminRoutes, { orgshift, apiToken, adminToken });
  await app.register(dashboardRoutes, { orgshift, metrics, apiToken, adminToken, settings: options.dashboard });
  await app.register(probeRoutes, { orgshift });
  await app.register(metricsRoute, { metrics });
  finishRoutes();
  return app;
}

/** Request ids, load shedding while closing, Retry-After on every 503, and no keep-alive over an unread body. */
function installRequestPlumbing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (closing) {
      done(new HttpError(503, 'shutting_down', 'server is shutting down; retry on another instance'));
      return;
    }
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    // server.close() only reaps connections idle at that moment; a keep-alive
    // connection whose request was still running would otherwise hold the drain open.
    // An answer sent before the body was read (401, 413, …) closes too: keeping the
    // connection would mean reading, and waiting for, a body nobody wants.
    if (closing || !request.raw.complete) reply.header('connection', 'close');
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) {
      reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
    }
    done(null, payload);
  });
}

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = toErrorReply(error);
  if (mapped.log === 'error') request.log.error({ err: error }, 'request failed');
  else if (mapped.log === 'warn') request.log.warn({ err: error }, 'request failed; the client got a generic message');
  return reply.code(mapped.statusCode).headers(mapped.headers).send(mapped.body);
}

function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: 'no such route' } }),
  );
}
