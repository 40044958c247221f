import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ClientFileStore,
  ClientTableStore,
  ehrClientSchema,
  summariseClient,
  type ClientStore,
  type EhrClient,
} from '@app/clients';
import { assertSchemaCurrent, createDataSource } from '@app/database';

const USAGE = `usage: node dist/tools/ehr-clients/main.js <list|add|remove> [options]

  list                                   registered clients (no keys)
  add --id ID --issuer ISS               add or replace a client, with its keys from one of
      [--jwks-url URL]                     the URL where it publishes its JWK Set
      [--jwks-file PATH]                   a JWK Set file (public keys only), stored inline
      [--jku URL]...                       jku header values it may use (exact URLs)
      [--tenant T] [--service ID]... [--fhir-base URL]... [--rate PER_SECOND:BURST]
  remove --id ID

Store: --file PATH (the JSON file named by EHR_CLIENTS_FILE), else the ehr_clients table at DATABASE_URL.`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      file: { type: 'string' },
      id: { type: 'string' },
      issuer: { type: 'string' },
      tenant: { type: 'string' },
      'jwks-url': { type: 'string' },
      'jwks-file': { type: 'string' },
      jku: { type: 'string', multiple: true },
      service: { type: 'string', multiple: true },
      'fhir-base': { type: 'string', multiple: true },
      rate: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command || !['list', 'add', 'remove'].includes(command)) {
    process.stdout.write(USAGE + '\n');
    if (!values.help) process.exitCode = 2;
    return;
  }
  await withStore(values.file, async (store) => {
    if (command === 'list') {
      process.stdout.write(JSON.stringify((await store.list()).map(summariseClient), null, 2) + '\n');
    } else if (command === 'add') {
      const client = clientFrom(values);
      await store.upsert(client);
      process.stdout.write(`registered ${client.id} (issuer ${client.issuer})\n`);
    } else {
      if (!values.id) throw new Error('remove needs --id');
      const removed = await store.remove(values.id);
      process.stdout.write(removed ? `removed ${values.id}\n` : `no client ${values.id}\n`);
      if (!removed) process.exitCode = 1;
    }
  });
}

function clientFrom(v: {
  id?: string;
  issuer?: string;
  tenant?: string;
  'jwks-url'?: string;
  'jwks-file'?: string;
  jku?: string[];
  service?: string[];
  'fhir-base'?: string[];
  rate?: string;
}): EhrClient {
  if (v['jwks-url'] && v['jwks-file']) throw new Error('give --jwks-url or --jwks-file, not both');
  const jwks = v['jwks-file'] ? (JSON.parse(readFileSync(v['jwks-file'], 'utf8')) as unknown) : undefined;
  const rate = v.rate ? /^(\d+(?:\.\d+)?):(\d+)$/.exec(v.rate) : null;
  if (v.rate && !rate) throw new Error('--rate must look like 20:40 (per second:burst)');
  const client = ehrClientSchema.parse({
    id: v.id,
    issuer: v.issuer,
    ...(v.tenant ? { tenant: v.tenant } : {}),
    ...(v['jwks-url'] ? { jwksUrl: v['jwks-url'] } : {}),
    ...(jwks ? { jwks } : {}),
    allowedJku: v.jku ?? [],
    services: v.service ?? ['*'],
    fhirBaseUrls: v['fhir-base'] ?? [],
    ...(rate ? { rateLimit: { perSecond: Number(rate[1]), burst: Number(rate[2]) } } : {}),
  });
  // Private members (EC/OKP `d`, RSA primes) have no place in a registry anyone with table access can read.
  if (client.jwks?.keys.some((k) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].some((m) => m in k))) {
    throw new Error('the JWK Set file holds a private key: refusing');
  }
  return client;
}

async function withStore(file: string | undefined, run: (store: ClientStore) => Promise<void>): Promise<void> {
  if (file) return run(new ClientFileStore(file));
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL (the ehr_clients table) or pass --file PATH');
  const ds = createDataSource({ url, poolSize: 1, applicationName: 'meditron-ehr-clients' });
  await ds.initialize();
  try {
    await assertSchemaCurrent(ds);
    await run(new ClientTableStore(ds));
  } finally {
    await ds.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
