import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { INTERNAL_TOKEN_HEADER, InternalTokenSigner, InternalTokenVerifier, type InternalCall } from '@app/auth';

/**
 * Headers for calling cds-hooks directly as the gateway would: a token minted with the stack's
 * INTERNAL_TOKEN_SECRET for this one call (method + path), naming the client.
 */
export async function gatewayHeaders(
  secret: string,
  call: { clientId: string; method?: 'GET' | 'POST'; path: string; requestId?: string },
): Promise<Record<string, string>> {
  const method = call.method ?? 'POST';
  const token = await new InternalTokenSigner(secret).sign({
    clientId: call.clientId,
    requestId: call.requestId ?? randomUUID(),
    serviceId: call.path.split('/')[2] ?? null,
    method,
    path: call.path,
  });
  return {
    [INTERNAL_TOKEN_HEADER]: token,
    ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
  };
}

/** A temporary EHR_CLIENTS_FILE registering these clients (cds-hooks checks each client's services itself). */
export function clientsFile(clients: ReadonlyArray<Record<string, unknown>>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ehr-clients-')), 'ehr-clients.json');
  writeFileSync(file, JSON.stringify({ clients }));
  return file;
}

/**
 * The claims of the per-call token a forwarded request carried, after checking it as cds-hooks would (so a test
 * that reads the client from it also proves the gateway signed it for this method and path).
 */
export async function forwardedCaller(
  secret: string,
  headers: IncomingHttpHeaders,
  method: string,
  path: string,
): Promise<InternalCall> {
  const token = headers[INTERNAL_TOKEN_HEADER];
  return new InternalTokenVerifier(secret).verify(Array.isArray(token) ? token[0] : token, method, path);
}
