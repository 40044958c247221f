import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { startFhirServer, type FhirTestServer } from '@app/testing/fhir-server';
import { prefetchFromSynthea } from '@app/testing/synthea';
import { FhirModule } from './fhir.module';
import { PrefetchResolver, type PrefetchQuery } from './prefetch/prefetch-resolver.service';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const TOKEN = 'module-spec-token';
const LIMITS = Symbol('LIMITS');

/** The module's bounds reach every search: registered through an app's own config provider, as apps do. */
describe('FhirModule', () => {
  let server: FhirTestServer;
  let query: PrefetchQuery;

  beforeAll(async () => {
    server = await startFhirServer({ fixtures: [DIRK], pageSize: 2, requireBearer: TOKEN });
    const { patientId } = prefetchFromSynthea(DIRK);
    query = {
      templates: { conditions: 'Condition?patient={{context.patientId}}' },
      hookContext: { patientId },
      fhirServer: server.baseUrl,
      accessToken: TOKEN,
      fhirServerAllowed: true,
    };
  });
  afterAll(() => server.close());

  async function resolverWith(maxPages: number): Promise<PrefetchResolver> {
    @Module({ providers: [{ provide: LIMITS, useValue: { maxPages } }], exports: [LIMITS] })
    class AppConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        FhirModule.registerAsync({
          imports: [AppConfigModule],
          inject: [LIMITS],
          useFactory: (l: { maxPages: number }) => ({ timeoutMs: 5_000, maxPages: l.maxPages }),
        }),
      ],
    }).compile();
    return moduleRef.get(PrefetchResolver);
  }

  it('exports PrefetchResolver, following paged searches up to the registered maxPages', async () => {
    const resolved = await (await resolverWith(50)).resolve(query);
    expect(resolved.fetched).toEqual(['conditions']);
    expect(resolved.audit).toEqual([expect.objectContaining({ key: 'conditions', outcome: 'success' })]);
    expect(resolved.audit[0]!.pages).toBeGreaterThan(1);
  });

  it('fails a search that needs more pages than registered, rather than shortening it', async () => {
    const resolved = await (await resolverWith(1)).resolve(query);
    expect(resolved.fetched).toEqual([]);
    expect(resolved.unavailable).toEqual([{ key: 'conditions', reason: 'too_many_pages' }]);
  });
});
