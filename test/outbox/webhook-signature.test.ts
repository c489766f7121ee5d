import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../src/outbox/webhook-signature.js';

const SECRET = 'whsec-test-0123456789abcdef';
const BODY = '{"id":"0b8c…","type":"user.migrated","occurredAt":"2026-01-01T00:00:00.000Z","data":{"userId":"u"}}';
const NOW = 1_790_000_000;

describe('webhook signatures', () => {
  it('follow the documented recipe: hex HMAC-SHA256 of "<t>.<raw body>"', () => {
    const header = signWebhook(BODY, SECRET, NOW);
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(header).toBe(`t=${NOW},v1=${expected}`);
    expect(verifyWebhookSignature(BODY, header, SECRET, 300, NOW)).toBe(true);
    expect(verifyWebhookSignature(Buffer.from(BODY), header, SECRET, 300, NOW)).toBe(true);
  });

  it('reject a tampered body, a wrong secret and a timestamp outside the tolerance', () => {
    const header = signWebhook(BODY, SECRET, NOW);
    expect(verifyWebhookSignature(BODY.replace('user.migrated', 'user.created'), header, SECRET, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(`${BODY} `, header, SECRET, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(BODY, header, `${SECRET}x`, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(BODY, header, SECRET, 300, NOW + 301)).toBe(false);
    expect(verifyWebhookSignature(BODY, header, SECRET, 300, NOW - 301)).toBe(false);
    expect(verifyWebhookSignature(BODY, header, SECRET, 300, NOW + 300)).toBe(true);
    // A replayed signature with a fresh timestamp is a different message: the timestamp is signed.
    const replayed = header.replace(`t=${NOW}`, `t=${NOW + 1000}`);
    expect(verifyWebhookSignature(BODY, replayed, SECRET, 300, NOW + 1000)).toBe(false);
  });

  it('reject missing and malformed headers instead of throwing', () => {
    const valid = signWebhook(BODY, SECRET, NOW);
    const v1 = valid.split('v1=')[1];
    for (const header of [
      undefined,
      null,
      '',
      'garbage',
      `v1=${v1}`,
      `t=${NOW}`,
      `t=abc,v1=${v1}`,
      `t=${NOW},v1=${v1?.slice(2)}`,
      `t=${NOW},v1=${'z'.repeat(64)}`,
      `t=${NOW},v0=${v1}`,
    ]) {
      expect(verifyWebhookSignature(BODY, header, SECRET, 300, NOW), String(header)).toBe(false);
    }
    expect(verifyWebhookSignature(BODY, valid, '', 300, NOW)).toBe(false);
  });

  it('accept any of several v1 signatures, so a secret can be rotated', () => {
    const old = signWebhook(BODY, 'the-old-secret-0123456789', NOW).split(',')[1];
    const current = signWebhook(BODY, SECRET, NOW);
    expect(verifyWebhookSignature(BODY, `${current},${old}`, SECRET, 300, NOW)).toBe(true);
    expect(verifyWebhookSignature(BODY, `${current},${old}`, 'the-old-secret-0123456789', 300, NOW)).toBe(true);
    expect(verifyWebhookSignature(BODY, `t=${NOW},${old}`, SECRET, 300, NOW)).toBe(false);
  });
});
