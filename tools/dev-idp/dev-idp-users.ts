import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/** A person the development identity provider signs in, with the staff roles its tokens carry. */
export interface DevIdpUser {
  readonly username: string;
  readonly password: string;
  readonly name: string;
  readonly roles: ReadonlyArray<string>;
}

const usersFile = z.array(
  z.object({ username: z.string(), password: z.string().min(12), name: z.string(), roles: z.array(z.string()) }),
);

/**
 * The two local users, `compliance` and `admin`, with passwords generated on first start and kept beside the dev EHR
 * client's key (mode 0600), so they survive restarts and are never the same on two machines.
 */
export function ensureDevIdpUsers(file: string): DevIdpUser[] {
  if (existsSync(file)) return usersFile.parse(JSON.parse(readFileSync(file, 'utf8')));
  const users: DevIdpUser[] = [
    { username: 'compliance', password: secret(), name: 'Casey Compliance', roles: ['compliance'] },
    { username: 'admin', password: secret(), name: 'Alex Admin', roles: ['admin'] },
  ];
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(users, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return users;
}

function secret(): string {
  return randomBytes(12).toString('base64url');
}
