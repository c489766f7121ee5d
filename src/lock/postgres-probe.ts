import pg from 'pg';
import { messageOf } from './error-message.js';
import { LockUnavailableError } from './errors.js';

/**
 * The readiness probe's own connection, outside the lock pool: a pool full of
 * waiters must not make a healthy server look down, nor a probe steal a slot.
 */
export class PostgresProbe {
  #client: Promise<pg.Client> | undefined;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly applicationName: string,
  ) {}

  async ping(): Promise<void> {
    try {
      this.#client ??= this.#open();
      const client = await this.#client;
      await client.query('select 1');
    } catch (error) {
      await this.close();
      throw new LockUnavailableError(`postgres lock backend unreachable: ${messageOf(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    const opening = this.#client;
    this.#client = undefined;
    const client = await opening?.catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  async #open(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      application_name: this.applicationName,
    });
    client.on('error', () => {
      // The next ping reconnects; a dead probe connection must not crash the process.
      this.#client = undefined;
      client.end().catch(() => undefined);
    });
    await client.connect();
    return client;
  }
}
