import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import {
  FileCheckpointSink,
  loadPublicKeys,
  loadSigningKey,
  type CheckpointSigningKey,
  type CheckpointSink,
} from '@app/audit';
import { ConfigError } from '@app/config';
import type { ComplianceConfig } from '../compliance.config';

/** What the gateway signs checkpoints with and verifies them against, read once at boot. */
export interface CheckpointSetup {
  readonly signingKey?: CheckpointSigningKey;
  /** The configured public keys plus the signing key's own. */
  readonly publicKeys: ReadonlyMap<string, KeyObject>;
  readonly sink?: CheckpointSink;
}

export const CHECKPOINT_SETUP = Symbol('CHECKPOINT_SETUP');

/** Stops start-up with the variable's name when a key file is missing or not an Ed25519 key. */
export function loadCheckpointSetup(c: ComplianceConfig): CheckpointSetup {
  const read = <T>(variable: string, path: string, parse: (text: string) => T): T => {
    try {
      return parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new ConfigError('gateway', [
        { variable, message: `not usable (${e instanceof Error ? e.message : String(e)})` },
      ]);
    }
  };
  const signingKey = c.AUDIT_CHECKPOINT_KEY_FILE
    ? read('AUDIT_CHECKPOINT_KEY_FILE', c.AUDIT_CHECKPOINT_KEY_FILE, (pem) =>
        loadSigningKey(pem, c.AUDIT_CHECKPOINT_KEY_ID),
      )
    : undefined;
  const publicKeys = c.AUDIT_CHECKPOINT_PUBLIC_KEYS_FILE
    ? read('AUDIT_CHECKPOINT_PUBLIC_KEYS_FILE', c.AUDIT_CHECKPOINT_PUBLIC_KEYS_FILE, loadPublicKeys)
    : new Map<string, KeyObject>();
  if (signingKey && !publicKeys.has(signingKey.keyId)) publicKeys.set(signingKey.keyId, signingKey.publicKey);
  return {
    ...(signingKey ? { signingKey } : {}),
    publicKeys,
    ...(c.AUDIT_CHECKPOINT_SINK_PATH ? { sink: new FileCheckpointSink(c.AUDIT_CHECKPOINT_SINK_PATH) } : {}),
  };
}
