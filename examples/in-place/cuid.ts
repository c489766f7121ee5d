import type { Random } from './random.js';

/**
 * Ids shaped like the cuids Prisma's `@default(cuid())` generates: `c`, the
 * creation time, a counter, a host fingerprint and random characters, all
 * base 36, 25 characters. The time prefix makes ids sort roughly by creation
 * as the app's do; the counter keeps them unique within one fixture.
 */
export class CuidFactory {
  readonly #random: Random;
  readonly #fingerprint: string;
  #counter = 0;

  constructor(random: Random) {
    this.#random = random;
    this.#fingerprint = random.base36(4);
  }

  next(createdAtMs: number): string {
    const time = createdAtMs.toString(36).padStart(8, '0').slice(-8);
    const counter = (this.#counter++ % 36 ** 4).toString(36).padStart(4, '0');
    return `c${time}${counter}${this.#fingerprint}${this.#random.base36(8)}`;
  }
}
