import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { REQUEST_ID_HEADER } from '@app/observability';
import type { GatewayConfig } from '../gateway.config';

/** Security headers on every answer, and CORS only for the origins configured (none by default). */
export function applyEdgeSecurity(app: NestExpressApplication, config: GatewayConfig): void {
  app.use(
    helmet({
      crossOriginResourcePolicy: { policy: 'same-site' },
      // TLS is terminated in front of the gateway (HSTS stays on); upgrading would break /docs on plain-http dev.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  if (config.CORS_ORIGINS && config.CORS_ORIGINS.length > 0) {
    app.enableCors({
      origin: config.CORS_ORIGINS,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', REQUEST_ID_HEADER, 'traceparent'],
      exposedHeaders: [REQUEST_ID_HEADER, 'traceparent', 'Retry-After'],
      credentials: false,
      maxAge: 600,
    });
  }
}
