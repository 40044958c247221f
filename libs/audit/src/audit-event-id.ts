import { createHash } from 'node:crypto';

/** The namespace of this product's name-based event ids (a random v4 uuid, fixed forever). */
const NAMESPACE = Buffer.from('3f0b8f1e6c2a4d7b9e5a1c8d2b7f4e60', 'hex');

/**
 * A name-based (RFC 4122 version 5) event id: the same parts always give the same id, so an event recorded
 * again after a crash (a redelivered inference, a replay) is stored once.
 */
export function auditEventId(...parts: ReadonlyArray<string>): string {
  const hash = createHash('sha1').update(NAMESPACE).update(parts.join('\u0000'), 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
