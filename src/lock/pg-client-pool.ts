import pg from 'pg';
import { messageOf } from './error-message.js';
import { LockTimeoutError, LockUnavailableError } from './errors.js';

/** A connection owned by exactly one acquirer or lease at a time, or idle (holding no lock). */
export interface PooledClient {
  readonly client: pg.Client;
  readonly pid: number;
  /** Set once the connection errored or ended; such a client is never reused. */
  dead: boolean;
  /** The current owner's reaction to the connection dying under it. */
  onDeath: ((error: Error) => void) | undefined;
}

export interface PgClientPoolConfig {
  readonly url: string;
  readonly max: number;
  readonly connectTimeoutMs: number;
  /** Idle connections beyond this age are closed, so a quiet process holds no sessions. */
  readonly idleTimeoutMs: number;
  readonly applicationName: string;
  readonly onBackgroundError: (error: unknown) => void;
}

interface Taker {
  /** Hands over an idle connection, or (undefined) a free slot to open one in. */
  grant(pooled: PooledClient | undefined): void;
  fail(error: Error): void;
}

/**
 * A bounded set of dedicated connections for advisory locks. Unlike pg.Pool, a
 * client only comes back here after its lock was released, so no connection
 * that holds a key is ever lent to a second acquirer (session advisory locks are
 * re-entrant per connection, which would silently break mutual exclusion).
 */
export class PgClientPool {
  readonly #all = new Set<PooledClient>();
  readonly #idle: PooledClient[] = [];
  readonly #idleTimers = new Map<PooledClient, NodeJS.Timeout>();
  readonly #takers: Taker[] = [];
  #connecting = 0;
  #closed = false;

  constructor(private readonly config: PgClientPoolConfig) {}

  /** A connection holding no lock; waits (FIFO) for a free slot until `deadline`. */
  async take(key: string, deadline: number): Promise<PooledClient> {
    for (;;) {
      if (this.#closed) throw new LockUnavailableError('postgres lock manager is closed');
      const idle = this.#popIdle();
      if (idle !== undefined) return idle;
      if (this.#all.size + this.#connecting < this.config.max) return this.#connect();
      const handed = await this.#awaitSlot(key, deadline);
      if (handed !== undefined) return handed;
    }
  }

  /** Returns a connection that holds no lock. */
  give(pooled: PooledClient): void {
    pooled.onDeath = undefined;
    if (pooled.dead || this.#closed) {
      this.discard(pooled);
      return;
    }
    const taker = this.#takers[0];
    if (taker !== undefined) {
      taker.grant(pooled);
      return;
    }
    this.#idle.push(pooled);
    const timer = setTimeout(() => this.#expireIdle(pooled), this.config.idleTimeoutMs);
    timer.unref();
    this.#idleTimers.set(pooled, timer);
  }

  /** Closes a connection whose state we no longer trust; the server drops whatever it held. */
  discard(pooled: PooledClient): void {
    pooled.onDeath = undefined;
    pooled.dead = true;
    if (!this.#all.delete(pooled)) return;
    pooled.client.end().catch(() => undefined);
    this.#wakeTaker();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const taker of this.#takers.splice(0)) taker.fail(new LockUnavailableError('postgres lock manager is closed'));
    for (const timer of this.#idleTimers.values()) clearTimeout(timer);
    this.#idleTimers.clear();
    this.#idle.length = 0;
    const ending = [...this.#all].map((pooled) => {
      pooled.dead = true;
      return pooled.client.end().catch(() => undefined);
    });
    this.#all.clear();
    await Promise.all(ending);
  }

  #popIdle(): PooledClient | undefined {
    // LIFO: the most recently used connection is the warmest; the coldest ones age out.
    const pooled = this.#idle.pop();
    if (pooled !== undefined) {
      clearTimeout(this.#idleTimers.get(pooled));
      this.#idleTimers.delete(pooled);
    }
    return pooled;
  }

  #expireIdle(pooled: PooledClient): void {
    const index = this.#idle.indexOf(pooled);
    if (index < 0) return;
    this.#idle.splice(index, 1);
    this.#idleTimers.delete(pooled);
    this.discard(pooled);
  }

  async #connect(): Promise<PooledClient> {
    this.#connecting += 1;
    const client = new pg.Client({
      connectionString: this.config.url,
      connectionTimeoutMillis: this.config.connectTimeoutMs,
      application_name: this.config.applicationName,
      keepAlive: true,
    });
    const pooled = { client, pid: 0, dead: false, onDeath: undefined as PooledClient['onDeath'] };
    const onDeath = (error: Error) => this.#died(pooled, error);
    // Without an 'error' listener a dropped idle connection would crash the process.
    client.on('error', onDeath);
    client.on('end', () => onDeath(new Error('connection ended')));
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      pooled.pid = rows[0]!.pid;
      if (this.#closed) throw new Error('closed while connecting');
      this.#all.add(pooled);
      return pooled;
    } catch (error) {
      pooled.dead = true;
      client.end().catch(() => undefined);
      this.#wakeTaker();
      throw new LockUnavailableError(`postgres lock backend unreachable: ${messageOf(error)}`, { cause: error });
    } finally {
      this.#connecting -= 1;
    }
  }

  #died(pooled: PooledClient, error: Error): void {
    if (pooled.dead) return;
    pooled.dead = true;
    const owner = pooled.onDeath;
    const index = this.#idle.indexOf(pooled);
    if (index >= 0) {
      this.#idle.splice(index, 1);
      clearTimeout(this.#idleTimers.get(pooled));
      this.#idleTimers.delete(pooled);
    }
    this.discard(pooled);
    if (owner !== undefined) owner(error);
    else if (!this.#closed) this.config.onBackgroundError(error);
  }

  #awaitSlot(key: string, deadline: number): Promise<PooledClient | undefined> {
    return new Promise<PooledClient | undefined>((resolve, reject) => {
      const started = Date.now();
      const leave = () => {
        clearTimeout(timer);
        const index = this.#takers.indexOf(taker);
        if (index >= 0) this.#takers.splice(index, 1);
      };
      const taker: Taker = {
        grant: (pooled) => {
          leave();
          resolve(pooled);
        },
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      // A full pool means as many acquirers already wait or hold: from the caller's view the key is busy.
      const timer = setTimeout(
        () => taker.fail(new LockTimeoutError(key, Date.now() - started)),
        Math.max(0, deadline - started),
      );
      this.#takers.push(taker);
    });
  }

  /** A slot freed up (a connection closed or failed to open): the oldest taker may open one. */
  #wakeTaker(): void {
    this.#takers[0]?.grant(undefined);
  }
}
