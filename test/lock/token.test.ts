import { describe, expect, it } from 'vitest';
import { newLockToken } from '../../src/lock/token.js';

describe('lock tokens', () => {
  it('are 128-bit hex strings, all different, across several refills of their pool', () => {
    const tokens = Array.from({ length: 2_000 }, newLockToken);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
