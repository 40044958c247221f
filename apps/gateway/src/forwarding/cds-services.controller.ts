import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { childTraceparent, REQUEST_ID_HEADER, requestIdFrom } from '@app/observability';
import { CdsHooksUpstream, type UpstreamReply } from './cds-hooks-upstream';

const SERVICE_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** The public CDS Hooks surface: discovery, hook calls and feedback, forwarded to cds-hooks. */
@Controller('cds-services')
export class CdsServicesController {
  constructor(private readonly upstream: CdsHooksUpstream) {}

  @Get()
  async discovery(@Req() req: Request, @Res() res: Response): Promise<void> {
    send(res, await this.upstream.forward('GET', '/cds-services', undefined, ids(req, res)));
  }

  @Post(':id')
  @HttpCode(200)
  async invoke(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!SERVICE_ID.test(id)) return notFound(res);
    send(res, await this.upstream.forward('POST', `/cds-services/${encodeURIComponent(id)}`, body, ids(req, res)));
  }

  @Post(':id/feedback')
  @HttpCode(200)
  async feedback(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!SERVICE_ID.test(id)) return notFound(res);
    send(
      res,
      await this.upstream.forward('POST', `/cds-services/${encodeURIComponent(id)}/feedback`, body, ids(req, res)),
    );
  }
}

function ids(req: Request, res: Response): { requestId: string; traceparent: string } {
  // pino-http has already settled the request id and put it on the response.
  const requestId = requestIdFrom(res.getHeader(REQUEST_ID_HEADER)?.toString() ?? req.header(REQUEST_ID_HEADER));
  const traceparent = childTraceparent(req.header('traceparent'));
  res.setHeader('traceparent', traceparent);
  return { requestId, traceparent };
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
