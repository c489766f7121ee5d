import type { FastifyInstance, HTTPMethods } from 'fastify';
import { HttpError } from './http-error.js';

const METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Records the methods of every route as it is added, so that the other
 * methods on a known path can answer 405 with Allow instead of a misleading 404.
 */
export function trackRouteMethods(app: FastifyInstance): () => void {
  const byPath = new Map<string, Set<string>>();
  let open = true;
  app.addHook('onRoute', (route) => {
    if (!open) return;
    const methods = byPath.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    byPath.set(route.url, methods);
  });
  return () => {
    open = false;
    for (const [path, allowed] of byPath) addMethodNotAllowed(app, path, allowed);
  };
}

function addMethodNotAllowed(app: FastifyInstance, path: string, allowed: ReadonlySet<string>): void {
  const others = METHODS.filter((method) => !allowed.has(method));
  if (others.length === 0) return;
  const allow = [...allowed].join(', ');
  app.route({
    method: [...others],
    url: path,
    schema: { hide: true },
    exposeHeadRoute: false,
    handler: async () => {
      throw new HttpError(405, 'method_not_allowed', `use ${allow} on this route`, { allow });
    },
  });
}
