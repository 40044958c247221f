import type { IncomingMessage, ServerResponse } from 'node:http';
import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pino, type Logger as Pino } from 'pino';
import PinoPretty from 'pino-pretty';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id';

/** The app's own root pino logger (its `service` in every line); see useAppLogger in http-app.ts. */
export const APP_PINO = Symbol('APP_PINO');

/**
 * Paths pino removes from every log line. Request and response bodies are never logged at all (see the
 * serializers below); these catch PHI or secrets that code might put in a log object by mistake.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.fhirAuthorization',
  '*.access_token',
  '*.prefetch',
  '*.context',
  '*.prompt',
  '*.messages',
  '*.outputText',
  '*.patient',
  '*.patientId',
];

/** Path only: query strings can carry patient identifiers (FHIR searches). */
function pathOnly(url: string | undefined): string {
  return (url ?? '').split('?')[0] ?? '';
}

/**
 * Pretty lines for a person at a terminal (pino-pretty), JSON for everything else (log shippers, files, CI).
 * LOG_FORMAT=json or =pretty overrides the guess.
 */
function destination(): NodeJS.WritableStream | undefined {
  const format = process.env.LOG_FORMAT;
  const pretty = format === 'pretty' || (format !== 'json' && process.stdout.isTTY === true);
  return pretty
    ? PinoPretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : undefined;
}

@Module({})
class AppLoggerModule {}

/**
 * The app's logging. Each app builds its own root logger, so in the single-process stack every line carries its own
 * app's `service`: nestjs-pino keeps one process-wide fallback logger (the first app's), which is why lines logged
 * outside a request all said `inference-proxy`; useAppLogger() binds the app's logger to its async context instead.
 */
export function loggerModule(service: string, level: string): DynamicModule {
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  const out = destination();
  const logger: Pino = out
    ? pino({ level, base: { service }, redact }, out)
    : pino({ level, base: { service }, redact });
  return {
    module: AppLoggerModule,
    global: true,
    imports: [loggerFor(logger, level)],
    providers: [{ provide: APP_PINO, useValue: logger }],
    exports: [APP_PINO, LoggerModule],
  };
}

function loggerFor(logger: Pino, level: string) {
  return LoggerModule.forRoot({
    pinoHttp: {
      logger,
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const id = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
        res.setHeader(REQUEST_ID_HEADER, id);
        return id;
      },
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          path: pathOnly(req.url),
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (req) => pathOnly(req.url).startsWith('/health') },
    },
  });
}
