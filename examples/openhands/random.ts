import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

/** A seeded source of everything the fixture invents, so one seed always yields the same database. */
export class Random {
  readonly #rng: RandomGenerator;

  constructor(seed: number) {
    this.#rng = xoroshiro128plus(seed);
  }

  /** An integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.#rng, from, to);
  }

  chance(probability: number): boolean {
    return uniformFloat64(this.#rng) < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  /** `value` with the given probability, otherwise NULL. */
  maybe<T>(probability: number, value: () => T): T | null {
    return this.chance(probability) ? value() : null;
  }

  bytes(length: number): Buffer {
    const bytes = Buffer.alloc(length);
    for (let offset = 0; offset < length; offset += 4) {
      const word = this.#rng.next() >>> 0;
      for (let shift = 0; shift < 4 && offset + shift < length; shift += 1)
        bytes[offset + shift] = word >>> (8 * shift);
    }
    return bytes;
  }

  /** Random characters; the modulo's bias (under 1e-8 for these alphabets) is irrelevant to fixture data. */
  text(length: number, alphabet: string = ALPHANUMERIC): string {
    let text = '';
    for (let n = 0; n < length; n += 1) text += alphabet[(this.#rng.next() >>> 0) % alphabet.length];
    return text;
  }

  hex(length: number): string {
    return this.text(length, HEX);
  }

  /** A version 4 UUID, the shape of a Keycloak user id. */
  uuid(): string {
    const bytes = this.bytes(16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /**
   * Whole seconds between two UTC instants (ISO, or as this returns them), as
   * PostgreSQL prints a `timestamp without time zone`: OpenHands stores naive UTC.
   */
  timestamp(from: string, to: string): string {
    const seconds = this.int(utcSeconds(from), utcSeconds(to));
    return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
  }
}

function utcSeconds(instant: string): number {
  return Date.parse(instant.includes('T') ? instant : `${instant.replace(' ', 'T')}Z`) / 1000;
}
