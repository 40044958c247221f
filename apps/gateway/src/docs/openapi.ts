import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { GatewayConfig } from '../gateway.config';

/** Security scheme names used by the controllers' @ApiBearerAuth. */
export const CDS_CLIENT_JWT = 'cds-client-jwt';
export const STAFF_OIDC = 'staff-oidc';

/** OpenAPI description at /docs (UI) and /docs/openapi.json. */
export function setupOpenApi(app: NestExpressApplication, config: GatewayConfig): void {
  const document = new DocumentBuilder()
    .setTitle('Meditron CDS gateway')
    .setDescription(
      'The public entry of Meditron CDS: CDS Hooks 2.0 discovery, hook calls and feedback for registered EHR ' +
        'clients, and staff APIs. Every card is AI-generated.',
    )
    .setVersion('0.1.0')
    .addServer(config.PUBLIC_BASE_URL)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'CDS Hooks client JWT (CDS Hooks 2.0.1 "Trusting CDS Clients"): signed with the client key ' +
          '(ES384 or RS384), aud = the URL of the endpoint called, a fresh jti per call.',
      },
      CDS_CLIENT_JWT,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Staff OIDC access token with roles' },
      STAFF_OIDC,
    )
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, document), {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
  });
}
