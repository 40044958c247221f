// Before everything else: instrumentation hooks modules as they are first required.
import { tracing } from './tracing';
import 'reflect-metadata';
import { relative } from 'node:path';
import { startLocalStack } from './local-stack';

/** `npm start`: the whole stack on this machine, embedded defaults for whatever is not configured. */
async function main(): Promise<void> {
  const stack = await startLocalStack({ env: process.env });
  const example = relative(process.cwd(), `${__dirname}/../../../tools/local-stack/example-patient-view.json`);
  const devToken = relative(process.cwd(), `${__dirname}/../dev-token/main.js`);
  const service = 'meditron-patient-view';
  const lines = [
    '',
    'Meditron CDS local stack is up.',
    `  gateway (public)   ${stack.gatewayUrl}`,
    `  cds-hooks          ${stack.cdsHooksUrl}`,
    `  inference-proxy    ${stack.inferenceProxyUrl}`,
    `  metrics            ${stack.metricsUrls.gateway}/metrics, ${stack.metricsUrls.cdsHooks}/metrics, ${stack.metricsUrls.inferenceProxy}/metrics`,
    `  database           ${stack.mode.database === 'embedded' ? 'embedded PGlite in .local/pgdata' : 'DATABASE_URL'}`,
    `  transport          ${stack.mode.transport === 'kafka' ? 'Kafka (KAFKA_BROKERS)' : 'in-process (set KAFKA_BROKERS for Kafka)'}`,
    `  model              ${stack.modelDouble ? `MODEL DOUBLE at ${stack.modelDouble.baseUrl} (a test double, not a model)` : 'INFERENCE_BACKENDS'}`,
    '',
    `EHR client \`${stack.devEhrClient.clientId}\` (issuer ${stack.devEhrClient.issuer}) is registered; its key is in ${relative(process.cwd(), stack.devEhrClient.dir)}.`,
    'Every call needs a fresh token (each jti is accepted once); this mints one inline.',
    '',
    'Try a patient-view hook:',
    `  curl -s -X POST ${stack.gatewayUrl}/cds-services/${service} \\`,
    `    -H "Authorization: Bearer $(node ${devToken} ${service})" \\`,
    `    -H 'content-type: application/json' -d @${example}`,
    '',
    'Discovery:',
    `  curl -s ${stack.gatewayUrl}/cds-services -H "Authorization: Bearer $(node ${devToken})"`,
    '',
    `API description: ${stack.gatewayUrl}/docs`,
    '',
    ...consoleLines(stack),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const stop = async () => {
    await stack.stop();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

function consoleLines(stack: Awaited<ReturnType<typeof startLocalStack>>): string[] {
  if (!stack.devIdp)
    return [`Compliance console: ${stack.publicBaseUrl}/console (sign-in through STAFF_OIDC_ISSUER)`, ''];
  return [
    `Compliance console: ${stack.publicBaseUrl}/console`,
    `  signs in at the development identity provider ${stack.devIdp.idp.issuer} (set STAFF_OIDC_ISSUER for a real one):`,
    ...stack.devIdp.users.map(
      (u) => `    ${u.username.padEnd(11)} password ${u.password}   roles: ${u.roles.join(', ') || '(none)'}`,
    ),
    '',
  ];
}

main().catch((e: unknown) => {
  process.stderr.write(`local stack failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
