import { readDevEhrClient, defaultDevClientDir } from '../local-stack/dev-ehr-client';
import { mintClientToken } from './mint';

const USAGE = `usage: node dist/tools/dev-token/main.js [SERVICE_ID | SERVICE_ID/feedback]
Prints a CDS Hooks client JWT for the local development EHR client (made by \`npm start\`), valid for one call
(its jti is remembered) within TTL_S seconds (default 3600). No argument: a token for discovery (GET /cds-services).
Audience base: PUBLIC_BASE_URL, else the one \`npm start\` recorded.`;

async function main(): Promise<void> {
  const arg = process.argv[2] ?? '';
  if (arg === '-h' || arg === '--help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (!/^([A-Za-z0-9._-]{1,100}(\/feedback)?)?$/.test(arg)) throw new Error(`not a service id: ${arg}\n${USAGE}`);
  const dev = readDevEhrClient(defaultDevClientDir());
  const base = (process.env.PUBLIC_BASE_URL ?? dev.publicBaseUrl).replace(/\/+$/, '');
  const ttlS = Number(process.env.TTL_S ?? '3600');
  const token = await mintClientToken(dev, {
    issuer: dev.issuer,
    audience: `${base}/cds-services${arg ? `/${arg}` : ''}`,
    ttlS: Number.isInteger(ttlS) && ttlS > 0 ? ttlS : 3600,
  });
  process.stdout.write(token + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
