import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A seeded source of fixture randomness. Each concern (users, teams,
 * dependents) draws from its own stream, so changing how many projects a
 * user gets does not change who the users are.
 */
export class Random {
  readonly #rng: RandomGenerator;

  constructor(seed: number, stream: number) {
    this.#rng = xoroshiro128plus((seed ^ Math.imul(stream, 0x9e3779b1)) | 0);
  }

  /** An integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.#rng, from, to);
  }

  /** A float in [0, 1). */
  float(): number {
    return uniformFloat64(this.#rng);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** An epoch-millisecond instant in [from, to]. */
  instant(from: number, to: number): number {
    return from + Math.floor(this.float() * Math.max(0, to - from));
  }

  base36(length: number): string {
    return this.#chars(BASE36, length);
  }

  base62(length: number): string {
    return this.#chars(BASE62, length);
  }

  #chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }
}
