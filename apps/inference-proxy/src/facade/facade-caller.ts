import { hash } from 'node:crypto';

/** SHA-256 of a key (one-shot `crypto.hash`: no Hash object per request). */
export const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

/** The caller's key, as the audit trail and FACADE_KEY_POLICIES name it: a short hash, never the key itself. */
export function callerId(key: string): string {
  return callerIdOf(digest(key));
}

/** `callerId` from the key's digest, when it is already at hand. */
export function callerIdOf(keyDigest: Buffer): string {
  return `key:${keyDigest.toString('hex', 0, 6)}`;
}
