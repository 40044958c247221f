import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Env } from '@app/config';
import { provisionRuntimeLogins, runtimeUrl, type RuntimeApp, type RuntimeLogin } from '@app/database';

export type AppDatabaseUrls = Readonly<Record<RuntimeApp, string>>;

const LOCAL_USERS: Record<RuntimeApp, string> = {
  gateway: 'meditron_local_gateway',
  cdsHooks: 'meditron_local_cds_hooks',
  inferenceProxy: 'meditron_local_inference_proxy',
};

/** Per-app overrides: a login the platform made, used as given (no provisioning). */
const OVERRIDES: Record<RuntimeApp, string> = {
  gateway: 'GATEWAY_DATABASE_URL',
  cdsHooks: 'CDS_HOOKS_DATABASE_URL',
  inferenceProxy: 'INFERENCE_PROXY_DATABASE_URL',
};

const passwords = z.object({ gateway: z.string(), cdsHooks: z.string(), inferenceProxy: z.string() });

/**
 * Each app's database login for `npm start` on an external Postgres (DATABASE_URL is the owner, who ran the
 * migrations): `<APP>_DATABASE_URL` when set, else a local login per app, provisioned as a member of the app's
 * runtime role with a password generated once into `secretFile` (0600). Embedded PGlite serves every socket
 * connection from one session as its one superuser, so there the apps keep the owner URL (see README).
 */
export async function appDatabaseUrls(
  ownerUrl: string,
  env: Env,
  opts: { embedded: boolean; secretFile: string },
): Promise<AppDatabaseUrls> {
  if (opts.embedded) return { gateway: ownerUrl, cdsHooks: ownerUrl, inferenceProxy: ownerUrl };
  const pw = ensurePasswords(opts.secretFile);
  const logins: Partial<Record<RuntimeApp, RuntimeLogin>> = {};
  const urls = {} as Record<RuntimeApp, string>;
  for (const app of Object.keys(LOCAL_USERS) as RuntimeApp[]) {
    const given = env[OVERRIDES[app]];
    if (given) {
      urls[app] = given;
      continue;
    }
    logins[app] = { user: LOCAL_USERS[app], password: pw[app] };
    urls[app] = runtimeUrl(ownerUrl, logins[app]);
  }
  if (Object.keys(logins).length > 0) await provisionRuntimeLogins(ownerUrl, logins);
  return urls;
}

function ensurePasswords(file: string): z.infer<typeof passwords> {
  if (existsSync(file)) return passwords.parse(JSON.parse(readFileSync(file, 'utf8')));
  const generated = {
    gateway: randomBytes(24).toString('base64url'),
    cdsHooks: randomBytes(24).toString('base64url'),
    inferenceProxy: randomBytes(24).toString('base64url'),
  };
  writeSecret(file, JSON.stringify(generated));
  return generated;
}

/**
 * The dev stack's audit checkpoint signing key (Ed25519, PKCS#8 PEM, 0600), generated on first start like
 * INTERNAL_TOKEN_SECRET; returns the variable the gateway reads it from, unless the environment names a key.
 */
export function ensureCheckpointKey(env: Env, dir: string): Env {
  if (env.AUDIT_CHECKPOINT_KEY_FILE) return {};
  const file = join(dir, 'audit-checkpoint.key');
  if (!existsSync(file)) {
    writeSecret(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  }
  // No default sink: one outliving a wiped or per-test database would disagree with its table (set
  // AUDIT_CHECKPOINT_SINK_PATH to keep one).
  return { AUDIT_CHECKPOINT_KEY_FILE: file };
}

function writeSecret(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, text.endsWith('\n') ? text : text + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}
