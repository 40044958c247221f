import type { Bundle, Patient } from 'fhir/r4';
import { startFhirServer, type FhirTestServer } from '@app/testing/fhir-server';
import { FhirFetcher, type FhirFetcherOptions } from './fhir-fetcher';
import { FhirFetchError } from './fhir-fetch-error';
import { fhirKitDebug } from './fhir-kit-loader';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const DIRK_ID = '948e608d-e408-4788-8cf2-8157c49c2940';
const ACTIVE_CONDITIONS = `Condition?patient=${DIRK_ID}&clinical-status=active`; // 14 matches: 3 pages of 5

async function fetchError(promise: Promise<unknown>): Promise<FhirFetchError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FhirFetchError);
  return err as FhirFetchError;
}

describe('FhirFetcher against a real FHIR server', () => {
  let server: FhirTestServer;
  const fetcher = (o: Partial<FhirFetcherOptions> = {}) =>
    new FhirFetcher({ baseUrl: server.baseUrl, timeoutMs: 2000, maxPages: 5, maxEntries: 100, ...o });
  const requestsDuring = async <T>(fn: () => Promise<T>): Promise<{ result: T; paths: string[] }> => {
    const before = server.requests().length;
    const result = await fn();
    return {
      result,
      paths: server
        .requests()
        .slice(before)
        .map((r) => r.path),
    };
  };

  beforeAll(async () => {
    server = await startFhirServer({ fixtures: [DIRK], pageSize: 5 });
  });
  afterAll(() => server.close());

  it('reads a resource', async () => {
    const result = await fetcher().fetch(`Patient/${DIRK_ID}`);
    expect(result).toMatchObject({ interaction: 'read', resourceType: 'Patient', pages: 1 });
    expect((result.resource as Patient).id).toBe(DIRK_ID);
  });

  it('follows next links and merges all pages into one searchset', async () => {
    const { result, paths } = await requestsDuring(() => fetcher().fetch(ACTIVE_CONDITIONS));
    const bundle = result.resource as Bundle;
    expect(result).toMatchObject({ interaction: 'search-type', resourceType: 'Condition', pages: 3 });
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 14 });
    expect(new Set(bundle.entry?.map((e) => e.resource?.id)).size).toBe(14);
    expect(bundle.link?.some((l) => l.relation === 'next')).toBe(false);
    expect(paths).toHaveLength(3);
    expect(paths[2]).toContain('_offset=10');
  });

  it('stops at maxPages with too_many_pages', async () => {
    const { result: err, paths } = await requestsDuring(() =>
      fetchError(fetcher({ maxPages: 2 }).fetch(ACTIVE_CONDITIONS)),
    );
    expect(err.code).toBe('too_many_pages');
    expect(paths).toHaveLength(2);
  });

  it('stops at maxEntries with too_many_entries', async () => {
    expect((await fetchError(fetcher({ maxEntries: 12 }).fetch(ACTIVE_CONDITIONS))).code).toBe('too_many_entries');
  });

  it('takes only the first page when the template limits results with _count', async () => {
    const { result, paths } = await requestsDuring(() =>
      fetcher().fetch(`Observation?patient=${DIRK_ID}&code=4548-4&_count=1&_sort=-date`),
    );
    const bundle = result.resource as Bundle;
    expect(bundle.total).toBe(8);
    expect(bundle.entry).toHaveLength(1);
    expect(result.pages).toBe(1);
    expect(paths).toHaveLength(1);
  });

  it('maps a missing resource to not_found', async () => {
    expect((await fetchError(fetcher().fetch('Patient/not-there'))).code).toBe('not_found');
  });

  it('refuses URLs that are not a relative read or type search, without calling the server', async () => {
    const { result: codes, paths } = await requestsDuring(() =>
      Promise.all(
        [
          'http://evil.invalid/fhir/Patient/1',
          '//evil.invalid/Patient/1',
          'Patient/../../admin',
          'Patient/1/_history',
          'metadata',
        ].map(async (u) => (await fetchError(fetcher().fetch(u))).code),
      ),
    );
    expect(new Set(codes)).toEqual(new Set(['invalid_url']));
    expect(paths).toEqual([]);
  });

  it('times out a slow server on each call', async () => {
    server.setLatency(1000);
    try {
      const t0 = Date.now();
      const err = await fetchError(fetcher({ timeoutMs: 200 }).fetch(`Patient/${DIRK_ID}`));
      expect(err.code).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(800);
    } finally {
      server.setLatency(0);
    }
  });

  it('maps a server that is down to unreachable', async () => {
    server.setDown(true);
    try {
      expect((await fetchError(fetcher().fetch(`Patient/${DIRK_ID}`))).code).toBe('unreachable');
    } finally {
      server.setDown(false);
    }
  });

  it('maps a closed port to unreachable', async () => {
    const closed = await startFhirServer({ fixtures: [] });
    const baseUrl = closed.baseUrl;
    await closed.close();
    const err = await fetchError(
      new FhirFetcher({ baseUrl, timeoutMs: 2000, maxPages: 1, maxEntries: 1 }).fetch('Patient/x'),
    );
    expect(err.code).toBe('unreachable');
  });

  it('keeps fhir-kit-client debug logging off even when DEBUG asks for it', async () => {
    const debug = await fhirKitDebug();
    const previous = debug.disable();
    debug.enable('fhir-kit-client:*');
    try {
      await fetcher().fetch(`Patient/${DIRK_ID}`);
      expect(debug.enabled('fhir-kit-client:info')).toBe(false);
      expect(debug.enabled('fhir-kit-client:error')).toBe(false);
    } finally {
      debug.enable(previous);
    }
  });
});

describe('FhirFetcher authorization and foreign links', () => {
  it('sends the token only as a bearer header and maps 401 to unauthorized', async () => {
    const server = await startFhirServer({ fixtures: [DIRK], requireBearer: 's3cret-token' });
    try {
      const base = { baseUrl: server.baseUrl, timeoutMs: 2000, maxPages: 2, maxEntries: 100 };
      const denied = await fetchError(new FhirFetcher({ ...base, accessToken: 'wrong' }).fetch(`Patient/${DIRK_ID}`));
      expect(denied.code).toBe('unauthorized');
      expect(denied.status).toBe(401);
      expect((await fetchError(new FhirFetcher(base).fetch(`Patient/${DIRK_ID}`))).code).toBe('unauthorized');
      // Log-safe: neither the patient id, the URL nor the token appear in the error.
      for (const text of [denied.message, String(denied.stack), JSON.stringify(denied)]) {
        expect(text).not.toContain(DIRK_ID);
        expect(text).not.toContain('wrong');
        expect(text).not.toContain('127.0.0.1');
      }

      const ok = await new FhirFetcher({ ...base, accessToken: 's3cret-token' }).fetch(`Patient/${DIRK_ID}`);
      expect(ok.resourceType).toBe('Patient');
      expect(JSON.stringify(ok)).not.toContain('s3cret-token');
      const last = server.requests().at(-1);
      expect(last).toEqual({ method: 'GET', path: `Patient/${DIRK_ID}`, authorization: 'Bearer s3cret-token' });
    } finally {
      await server.close();
    }
  });

  it('refuses a next link to another origin without following it', async () => {
    const server = await startFhirServer({ fixtures: [DIRK], pageSize: 5, nextLinkBase: 'http://evil.invalid/fhir' });
    try {
      const fetcher = new FhirFetcher({
        baseUrl: server.baseUrl,
        accessToken: 't',
        timeoutMs: 2000,
        maxPages: 5,
        maxEntries: 100,
      });
      expect((await fetchError(fetcher.fetch(ACTIVE_CONDITIONS))).code).toBe('bad_response');
      expect(server.requests()).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});
