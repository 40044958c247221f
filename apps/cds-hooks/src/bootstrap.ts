import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { listen, type RunningApp } from '@app/observability';
import { CdsHooksModule, type CdsHooksRuntime } from './cds-hooks.module';
import { OperationOutcomeFilter } from './errors/operation-outcome.filter';

export async function startCdsHooks(rt: CdsHooksRuntime, host = '0.0.0.0'): Promise<RunningApp> {
  const app = await NestFactory.create<NestExpressApplication>(CdsHooksModule.forRoot(rt), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useBodyParser('json', { limit: '5mb', type: ['application/json', 'application/fhir+json'] });
  app.useGlobalFilters(new OperationOutcomeFilter());
  return listen(app, rt.config.CDS_HOOKS_PORT, host);
}
