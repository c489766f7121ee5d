import { ConfigError } from '../errors.js';
import { isLoopbackHost } from '../net/loopback-address.js';

export { isLoopbackAddress, isLoopbackHost } from '../net/loopback-address.js';

/**
 * Without an API token anyone who can reach the socket can read users, so
 * such a server may only listen on loopback. Throws `ConfigError` (exit 2).
 */
export function assertListenAllowed(host: string, apiToken: string | undefined): void {
  if (apiToken !== undefined || isLoopbackHost(host)) return;
  throw new ConfigError(
    'ORGSHIFT_HOST',
    `refusing to listen on ${host} without ORGSHIFT_API_TOKEN; set a token (and ORGSHIFT_ADMIN_TOKEN) or listen on 127.0.0.1`,
  );
}
