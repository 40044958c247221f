import { optionsFromEnv } from './cli-config';
import { startModelDouble } from './server';

/**
 * CLI: `node dist/libs/model-double/src/main.js`. Env: MODEL_DOUBLE_PORT (8090), MODEL_DOUBLE_HOST
 * (127.0.0.1), MODEL_DOUBLE_FLAVOUR (vllm|tgi), MODEL_DOUBLE_MODEL (meditron-70b),
 * MODEL_DOUBLE_TTFT_MS, MODEL_DOUBLE_PER_TOKEN_MS.
 */
async function main(): Promise<void> {
  const options = optionsFromEnv(process.env);
  const double = await startModelDouble(options);
  process.stdout.write(
    'MODEL DOUBLE: a test/development stand-in for a model server. It is NOT a model: every answer is canned.\n',
  );
  process.stdout.write(`model double (${double.flavour}, model "${double.model}") listening on ${double.url}\n`);

  const stop = (signal: string): void => {
    process.stdout.write(`model double: ${signal}, stopping\n`);
    double.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`model double failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
