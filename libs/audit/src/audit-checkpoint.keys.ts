import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { AuditChainHead, AuditCheckpoint } from '@app/database';

/**
 * Ed25519 checkpoints of the chain head, like a Certificate Transparency signed tree head or an Azure SQL ledger
 * digest: the key lives with the app (file or Secret), never in the database, so whoever can rewrite tables cannot
 * sign a new head. Keys are named by an id so old checkpoints still verify after a rotation.
 */
export interface CheckpointSigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Public keys by key id; every checkpoint names the key that signed it. */
export type CheckpointPublicKeys = ReadonlyMap<string, KeyObject>;

/** The exact bytes signed: versioned, one field a line, nothing a reader has to normalise. */
export function checkpointText(c: Pick<AuditCheckpoint, 'keyId' | 'headId' | 'headHash' | 'signedAt'>): string {
  return `meditron-cds audit checkpoint v1\nkey=${c.keyId}\nhead_id=${c.headId}\nhead_hash=${c.headHash}\nsigned_at=${c.signedAt}\n`;
}

/** A key id derived from the public key (first 16 characters of the SPKI's SHA-256, base64url). */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url').slice(0, 16);
}

/** Parses a PKCS#8 PEM Ed25519 private key; the key id defaults to keyIdOf(its public key). */
export function loadSigningKey(pem: string, keyId?: string): CheckpointSigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the audit checkpoint key must be Ed25519');
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyId ?? keyIdOf(publicKey), privateKey, publicKey };
}

/** Parses `{ "<key id>": "<SPKI PEM>" }`. */
export function loadPublicKeys(json: string): Map<string, KeyObject> {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('audit checkpoint public keys must be a JSON object of key id to PEM');
  }
  const keys = new Map<string, KeyObject>();
  for (const [kid, pem] of Object.entries(parsed)) {
    if (typeof pem !== 'string') throw new Error(`audit checkpoint public key ${kid} is not a PEM string`);
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`audit checkpoint public key ${kid} is not Ed25519`);
    keys.set(kid, key);
  }
  return keys;
}

export function signCheckpoint(
  head: AuditChainHead & { readonly lastId: string },
  key: CheckpointSigningKey,
  at: Date,
): AuditCheckpoint {
  const unsigned = { keyId: key.keyId, headId: head.lastId, headHash: head.lastHash, signedAt: at.toISOString() };
  const signature = sign(null, Buffer.from(checkpointText(unsigned), 'utf8'), key.privateKey).toString('base64url');
  return { ...unsigned, signature };
}

/** `unknown_key` when no configured public key has the checkpoint's id. */
export function checkSignature(c: AuditCheckpoint, keys: CheckpointPublicKeys): 'ok' | 'unknown_key' | 'bad_signature' {
  const key = keys.get(c.keyId);
  if (!key) return 'unknown_key';
  const ok = verify(null, Buffer.from(checkpointText(c), 'utf8'), key, Buffer.from(c.signature, 'base64url'));
  return ok ? 'ok' : 'bad_signature';
}
