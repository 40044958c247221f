import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { httpServerLimits, listen, type RunningApp } from '@app/observability';
import { CdsHooksModule, type CdsHooksOptions } from './cds-hooks.module';
import { trackRequests } from './http-drain';

/** On close, how long calls already being served may take beyond the hook deadline (their answer is stored). */
const DRAIN_MARGIN_MS = 5_000;

/** Creates and starts cds-hooks; closing it answers the calls being served, then shuts the modules down. */
export async function startCdsHooks(rt: CdsHooksOptions, host = '0.0.0.0'): Promise<RunningApp> {
  const app = await NestFactory.create<NestExpressApplication>(CdsHooksModule.forRoot(rt), {
    bufferLogs: true,
    bodyParser: false,
    // Throw instead of exiting the process when a connection fails at start-up: the caller decides.
    abortOnError: false,
  });
  app.useBodyParser('json', { limit: rt.config.BODY_LIMIT, type: ['application/json', 'application/fhir+json'] });
  const requests = trackRequests(app.getHttpServer());
  const running = await listen(app, rt.config.CDS_HOOKS_PORT, host, {
    limits: httpServerLimits(rt.config),
  });
  return {
    ...running,
    // Answer what is being served before the writers and result waiters shut down.
    close: async () => {
      await requests.drain(rt.config.HOOK_DEADLINE_MS + DRAIN_MARGIN_MS);
      await running.close();
    },
  };
}
