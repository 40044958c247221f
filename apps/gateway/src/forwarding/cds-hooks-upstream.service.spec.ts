import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { INTERNAL_TOKEN_HEADER, InternalTokenVerifier } from '@app/auth';
import { UPSTREAM_TIMEOUT_HEADER } from '@app/contracts';
import { loadGatewayConfig } from '../gateway.config';
import { CdsHooksUpstream } from './cds-hooks-upstream.service';
import { HeldHttpServer } from '../../../../test/support/held-http-server';

const SECRET = randomBytes(32).toString('base64url');
const CALLER = { requestId: 'req-1', traceparent: '', clientId: 'ehr-a', serviceId: 'meditron-patient-view' };

function upstream(url: string, env: Record<string, string> = {}): CdsHooksUpstream {
  return new CdsHooksUpstream(loadGatewayConfig({ CDS_HOOKS_URL: url, INTERNAL_TOKEN_SECRET: SECRET, ...env }));
}

describe('CdsHooksUpstream', () => {
  let cds: HeldHttpServer;
  let url: string;
  beforeEach(async () => {
    cds = new HeldHttpServer();
    url = await cds.listen();
  });
  afterEach(() => cds.close());

  it('forwards the body as given, the timeout and a per-call internal token, and returns the reply as sent', async () => {
    const client = upstream(url);
    const reply = client.forward('POST', '/cds-services/meditron-patient-view', '{"hook":"patient-view"}', CALLER);
    await cds.arrived(1);
    const [{ req, body }] = cds.held as [(typeof cds.held)[number]];
    expect(body).toBe('{"hook":"patient-view"}');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers[UPSTREAM_TIMEOUT_HEADER]).toBe('8000');
    const call = await new InternalTokenVerifier(SECRET).verify(
      req.headers[INTERNAL_TOKEN_HEADER] as string,
      'POST',
      '/cds-services/meditron-patient-view',
    );
    expect(call).toMatchObject({ clientId: 'ehr-a', requestId: 'req-1', serviceId: 'meditron-patient-view' });
    cds.releaseAll(200, 'application/fhir+json', '{"cards":[]}');
    await expect(reply).resolves.toEqual({ status: 200, contentType: 'application/fhir+json', body: '{"cards":[]}' });
    await client.onModuleDestroy();
  });

  it('opens at most CDS_HOOKS_MAX_CONNECTIONS connections however many calls are in flight; the rest wait', async () => {
    const client = upstream(url, { CDS_HOOKS_MAX_CONNECTIONS: '3' });
    // Ten calls at once: without a cap each would have its own socket before any answer comes back.
    const replies = Array.from({ length: 10 }, (_, i) =>
      client.forward('POST', '/cds-services/meditron-patient-view', `{"n":${i}}`, { ...CALLER, requestId: `r${i}` }),
    );
    await cds.arrived(3);
    expect(cds.held).toHaveLength(3);
    cds.releaseAll(200, 'application/fhir+json', '{"cards":[]}');
    const answered = await Promise.all(replies);
    expect(answered.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(cds.connections).toBeLessThanOrEqual(3);
    await client.onModuleDestroy();
  });

  it('answers 504 with an OperationOutcome when cds-hooks does not answer within UPSTREAM_TIMEOUT_MS', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const client = upstream(url, { UPSTREAM_TIMEOUT_MS: '50' });
    const reply = await client.forward('POST', '/cds-services/meditron-patient-view', '{}', CALLER);
    expect(reply.status).toBe(504);
    expect(JSON.parse(reply.body)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'timeout' }] });
    await client.onModuleDestroy();
  });

  it('answers 502 when cds-hooks cannot be reached', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await cds.close();
    const client = upstream(url);
    const reply = await client.forward('GET', '/cds-services', undefined, CALLER);
    expect(reply.status).toBe(502);
    cds = new HeldHttpServer();
    await cds.listen();
    await client.onModuleDestroy();
  });
});
