import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { httpServerLimits, listen, type RunningApp } from '@app/observability';
import { CdsHooksModule, type CdsHooksOptions } from './cds-hooks.module';
import { trackRequests } from './http-drain';
import { AdmissionControl } from './load-shedding/admission-control.service';

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
      const until = Date.now() + rt.config.HOOK_DEADLINE_MS + DRAIN_MARGIN_MS;
      await requests.drain(until - Date.now());
      // Calls answered at their deadline (no cards) are still storing their answer in the background.
      await app.get(AdmissionControl, { strict: false }).idle(Math.max(0, until - Date.now()));
      await running.close();
    },
  };
}
