import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';

/** True for an address on this machine's loopback interface (127.0.0.0/8, ::1, their IPv4-mapped form). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/** A listen host that cannot accept connections from another machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

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
