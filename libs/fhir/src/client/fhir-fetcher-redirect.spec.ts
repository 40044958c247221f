import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Patient } from 'fhir/r4';
import { resolvePrefetch } from '../prefetch/resolve-prefetch';
import { FhirFetcher } from './fhir-fetcher';
import { FhirFetchError } from './fhir-fetch-error';

interface Loopback {
  readonly origin: string;
  readonly hits: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 answering every request with `handle`; it records what reached it. */
async function loopback(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Loopback> {
  const hits: Loopback['hits'] = [];
  const server: Server = createServer((req, res) => {
    hits.push({ path: req.url ?? '', authorization: req.headers.authorization });
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const patient = (family: string): Patient => ({ resourceType: 'Patient', id: 'p1', name: [{ family }] });
const json = (res: ServerResponse, body: unknown): void => {
  res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(body));
};
const redirect = (res: ServerResponse, status: number, location: string): void => {
  res.writeHead(status, { location }).end();
};

describe('FhirFetcher redirects (real HTTP on loopback)', () => {
  let elsewhere: Loopback; // another origin: must never be called
  let ehr: Loopback; // the allow-listed FHIR server, base `${origin}/fhir`

  beforeAll(async () => {
    elsewhere = await loopback((_req, res) => json(res, patient('EXFILTRATED')));
    ehr = await loopback((req, res) => {
      const path = req.url ?? '';
      if (path === '/fhir/Patient/p1') return json(res, patient('Kuhlman'));
      if (path === '/fhir/Patient/moved') return redirect(res, 301, '/fhir/Patient/p1');
      if (path === '/fhir/Patient/relative') return redirect(res, 307, 'p1');
      if (path === '/fhir/Patient/away') return redirect(res, 302, `${elsewhere.origin}/fhir/Patient/p1`);
      if (path === '/fhir/Patient/sideways') return redirect(res, 302, '/admin/Patient/p1');
      if (path === '/fhir/Patient/userinfo') {
        return redirect(res, 302, `http://evil@${ehr.origin.slice('http://'.length)}/fhir/Patient/p1`);
      }
      if (path === '/fhir/Patient/loop') return redirect(res, 302, '/fhir/Patient/loop');
      res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    await elsewhere.close();
    await ehr.close();
  });

  const fetcher = (): FhirFetcher =>
    new FhirFetcher({
      baseUrl: `${ehr.origin}/fhir`,
      accessToken: 'tok-123',
      timeoutMs: 2000,
      maxPages: 2,
      maxEntries: 10,
    });
  const failure = async (path: string): Promise<FhirFetchError> => {
    const err: unknown = await fetcher()
      .fetch(path)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(FhirFetchError);
    return err as FhirFetchError;
  };

  it('follows a redirect to a path under the same base, absolute-path or relative', async () => {
    const moved = await fetcher().fetch('Patient/moved');
    expect((moved.resource as Patient).name?.[0]?.family).toBe('Kuhlman');
    const relative = await fetcher().fetch('Patient/relative');
    expect((relative.resource as Patient).name?.[0]?.family).toBe('Kuhlman');
  });

  it('refuses a redirect to another origin without calling it: neither data nor token cross', async () => {
    const before = elsewhere.hits.length;
    expect((await failure('Patient/away')).code).toBe('redirect_refused');
    expect(elsewhere.hits.length).toBe(before);
  });

  it('refuses a redirect that leaves the base path or adds user info', async () => {
    expect((await failure('Patient/sideways')).code).toBe('redirect_refused');
    expect((await failure('Patient/userinfo')).code).toBe('redirect_refused');
    expect(ehr.hits.some((h) => h.path.startsWith('/admin'))).toBe(false);
  });

  it('stops a redirect loop after a few hops', async () => {
    const before = ehr.hits.filter((h) => h.path === '/fhir/Patient/loop').length;
    expect((await failure('Patient/loop')).code).toBe('too_many_redirects');
    expect(ehr.hits.filter((h) => h.path === '/fhir/Patient/loop').length - before).toBe(4);
  });

  it('keeps redirected-away data out of the prefetch (and so out of the prompt), with the reason', async () => {
    const resolved = await resolvePrefetch({
      templates: { patient: 'Patient/away', same: 'Patient/moved' },
      hookContext: {},
      fhirServer: `${ehr.origin}/fhir`,
      accessToken: 'tok-123',
      fhirServerAllowed: true,
      timeoutMs: 2000,
      maxPages: 2,
    });
    expect(resolved.unavailable).toEqual([{ key: 'patient', reason: 'redirect_refused' }]);
    expect(JSON.stringify(resolved.data)).not.toContain('EXFILTRATED');
    expect((resolved.data.same as Patient).name?.[0]?.family).toBe('Kuhlman');
  });
});
