import { Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RefusedException } from '@app/auth';
import { SERVICE_ID_PATTERN } from '@app/contracts';
import { outgoingTraceparent, REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import { callerOf } from '../auth/caller';
import { EhrAuthGuard } from '../auth/ehr-auth.guard';
import { CDS_CLIENT_JWT } from '../docs/openapi';
import { ClientRateLimitGuard } from '../rate-limit/client-rate-limit.guard';
import { CdsHooksUpstream, type UpstreamReply } from './cds-hooks-upstream.service';
import { BodyRefusal, JsonBodyReader } from './json-body-reader.service';

// The catalog's own pattern: an id no catalog could hold (e.g. `..`) is a 404 here and never forwarded.
const SERVICE_ID = SERVICE_ID_PATTERN;

/** The public CDS Hooks surface: discovery, hook calls and feedback, authenticated, then forwarded to cds-hooks. */
@ApiTags('CDS Hooks')
@ApiBearerAuth(CDS_CLIENT_JWT)
@ApiResponse({ status: 401, description: 'missing or invalid client JWT (no body)' })
@ApiResponse({ status: 429, description: 'rate limit for this client exceeded; see Retry-After' })
@Controller('cds-services')
@UseGuards(EhrAuthGuard, ClientRateLimitGuard)
export class CdsServicesController {
  constructor(
    private readonly upstream: CdsHooksUpstream,
    private readonly bodies: JsonBodyReader,
  ) {}

  @Get()
  @ApiOperation({ summary: 'CDS Hooks discovery: the services this gateway offers' })
  @ApiResponse({ status: 200, description: '{ "services": [...] }' })
  async discovery(@Req() req: Request, @Res() res: Response): Promise<void> {
    send(res, await this.upstream.forward('GET', '/cds-services', undefined, ids(req, res, null)));
  }

  @Post(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Invoke a CDS service with a hook request' })
  @ApiParam({ name: 'id', description: 'CDS service id from discovery' })
  @ApiBody({
    description: 'CDS Hooks request (hook, hookInstance, context, prefetch, ...)',
    schema: { type: 'object' },
  })
  @ApiResponse({ status: 200, description: '{ "cards": [...] }' })
  @ApiResponse({ status: 400, description: 'malformed JSON, nesting or array too large, or invalid hook request' })
  @ApiResponse({ status: 403, description: 'this client may not call that service' })
  @ApiResponse({ status: 413, description: 'body larger than BODY_LIMIT' })
  async invoke(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!SERVICE_ID.test(id)) return notFound(res);
    const body = await this.readBody(req);
    send(res, await this.upstream.forward('POST', `/cds-services/${encodeURIComponent(id)}`, body, ids(req, res, id)));
  }

  @Post(':id/feedback')
  @HttpCode(200)
  @ApiOperation({ summary: 'Feedback on cards a CDS service returned' })
  @ApiParam({ name: 'id', description: 'CDS service id from discovery' })
  @ApiBody({ description: 'CDS Hooks feedback ({ "feedback": [...] })', schema: { type: 'object' } })
  @ApiResponse({ status: 200, description: 'feedback recorded' })
  async feedback(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!SERVICE_ID.test(id)) return notFound(res);
    const body = await this.readBody(req);
    send(
      res,
      await this.upstream.forward('POST', `/cds-services/${encodeURIComponent(id)}/feedback`, body, ids(req, res, id)),
    );
  }

  /** The body's text once the reader's checks passed: forwarded as received, not parsed and serialized again. */
  private async readBody(req: Request): Promise<string> {
    try {
      return await this.bodies.readText(req);
    } catch (e) {
      if (!(e instanceof BodyRefusal)) throw e;
      const { client } = callerOf(req);
      throw new RefusedException(
        { action: 'request.refused', reason: e.code, clientId: client.id, tenant: client.tenant },
        e.status,
        e.code,
      );
    }
  }
}

function ids(
  req: Request,
  res: Response,
  serviceId: string | null,
): { requestId: string; traceparent: string; clientId: string; serviceId: string | null } {
  // pino-http has already settled the request id and put it on the response.
  const requestId = requestIdFrom(res.getHeader(REQUEST_ID_HEADER)?.toString() ?? req.header(REQUEST_ID_HEADER));
  const traceparent = outgoingTraceparent(req.header('traceparent'));
  res.setHeader('traceparent', traceparent);
  return { requestId, traceparent, clientId: callerOf(req).client.id, serviceId };
}

function send(res: Response, reply: UpstreamReply): void {
  res.status(reply.status).type(reply.contentType).send(reply.body);
}

function notFound(res: Response): void {
  res
    .status(404)
    .type('application/fhir+json')
    .send(
      JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'not-found', diagnostics: 'no such CDS service' }],
      }),
    );
}
