import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { startCdsHooks } from '../../apps/cds-hooks/src/bootstrap';
import { loadCdsHooksConfig } from '../../apps/cds-hooks/src/cds-hooks.config';
import { startGateway } from '../../apps/gateway/src/bootstrap';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway.config';
import { startInferenceProxy } from '../../apps/inference-proxy/src/bootstrap';
import { loadInferenceProxyConfig } from '../../apps/inference-proxy/src/inference-proxy.config';
import { ClientTableStore } from '@app/clients';
import type { BackendTarget, Env } from '@app/config';
import { createDataSource, runMigrations, startEmbeddedPostgres, type EmbeddedPostgres } from '@app/database';
import { InProcessBus } from '@app/messaging';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { ensureDevIdpUsers, type DevIdpUser } from '../dev-idp/dev-idp-users';
import { startLocalDevIdp, type LocalDevIdp } from './dev-idp-setup';
import { appDatabaseUrls, ensureCheckpointKey } from './database-roles';
import { ensureInternalTokenSecret } from './internal-token-secret';
import { defaultDevClientDir, devClientRegistration, ensureDevEhrClient, type DevEhrClient } from './dev-ehr-client';

export interface LocalStackOptions {
  readonly env: Env;
  /** Where embedded Postgres keeps its data when DATABASE_URL is unset. */
  readonly dataDir?: string;
  /** Port for the model double when INFERENCE_BACKENDS is unset (0 = any free port). */
  readonly modelDoublePort?: number;
  /** Bind address of the two internal apps (the gateway binds BIND_HOST, default 127.0.0.1 locally). */
  readonly host?: string;
  /** Where the development EHR client's key pair lives (default `.local/dev-ehr-client`, or DEV_EHR_CLIENT_DIR). */
  readonly devClientDir?: string;
  /** The development identity provider's users (default: `compliance` and `admin`, passwords kept beside the dev client). */
  readonly devIdpUsers?: ReadonlyArray<DevIdpUser>;
}

export interface LocalStack {
  readonly gatewayUrl: string;
  readonly cdsHooksUrl: string;
  readonly inferenceProxyUrl: string;
  /** Each app's metrics listener (`GET /metrics`), apart from its app port. */
  readonly metricsUrls: { readonly gateway: string; readonly cdsHooks: string; readonly inferenceProxy: string };
  readonly databaseUrl: string;
  /** PUBLIC_BASE_URL of the gateway: the base of every JWT `aud`. */
  readonly publicBaseUrl: string;
  /** INTERNAL_TOKEN_SECRET shared by the gateway and cds-hooks (tests mint tokens with it to call cds-hooks directly). */
  readonly internalTokenSecret: string;
  /** The registered development EHR client (`local-dev-ehr`) and its signing key. */
  readonly devEhrClient: DevEhrClient;
  /** The development OIDC provider the console signs in against; absent when STAFF_OIDC_ISSUER names a real one. */
  readonly devIdp: LocalDevIdp | undefined;
  readonly modelDouble: ModelDouble | undefined;
  readonly mode: {
    readonly database: 'embedded' | 'external';
    readonly transport: 'in-process' | 'kafka';
    readonly model: 'double' | 'backends';
  };
  stop(): Promise<void>;
}

/**
 * The whole system in one process: the three apps, each on its own port and talking HTTP, with embedded
 * defaults for whatever the environment does not configure (Postgres, Kafka, model backends).
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const devClientDir = opts.devClientDir ?? defaultDevClientDir();
  const host = opts.host ?? opts.env.BIND_HOST ?? '127.0.0.1';
  // Like the dev EHR client's key: generated at first start next to it, unless the environment sets one.
  const env: Env = {
    METRICS_HOST: host,
    ...opts.env,
    INTERNAL_TOKEN_SECRET:
      opts.env.INTERNAL_TOKEN_SECRET ?? ensureInternalTokenSecret(join(dirname(devClientDir), 'internal-token.secret')),
  };
  // The gateway's compliance module reads its checkpoint key from the process environment (compliance.config.ts).
  for (const [k, v] of Object.entries(ensureCheckpointKey(env, dirname(devClientDir)))) process.env[k] ??= v;
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    // Validate every app's configuration before starting anything.
    const proxyConfig = loadInferenceProxyConfig(metricsPortOf(env, 'inference-proxy'));
    const cdsConfig = loadCdsHooksConfig(metricsPortOf(env, 'cds-hooks'));
    loadGatewayConfig(metricsPortOf(env, 'gateway'));

    let embedded: EmbeddedPostgres | undefined;
    let databaseUrl = proxyConfig.DATABASE_URL;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres({ dataDir: opts.dataDir ?? join(process.cwd(), '.local', 'pgdata') });
      cleanups.push(() => embedded!.stop());
      databaseUrl = embedded.url;
    }
    await runMigrations(databaseUrl);
    // DATABASE_URL owns the schema; each app runs on its own runtime login (issue 14).
    const appUrls = await appDatabaseUrls(databaseUrl, env, {
      embedded: embedded !== undefined,
      secretFile: join(dirname(devClientDir), 'database-logins.secret'),
    });

    let modelDouble: ModelDouble | undefined;
    let backends: ReadonlyArray<BackendTarget> | undefined = proxyConfig.INFERENCE_BACKENDS;
    if (!backends) {
      modelDouble = await startModelDouble({
        port: opts.modelDoublePort ?? 8090,
        flavour: 'vllm',
        model: proxyConfig.INFERENCE_MODEL,
      });
      cleanups.push(() => modelDouble!.close());
      backends = [{ id: `vllm@double`, kind: 'vllm', baseUrl: modelDouble.baseUrl }];
    }

    const bus = proxyConfig.KAFKA_BROKERS ? undefined : new InProcessBus();
    // Embedded PGlite runs one unit of work at a time and queues the rest (its wire server waits without a
    // limit; a pool wait gives up after its connect timeout): pools large enough that calls queue there, not in
    // the pools. DB_POOL_SIZE still wins when set.
    // Its one backend also serves every connection, so one connection's named statement would collide with another's:
    // statements run unnamed there.
    const pool = embedded
      ? { DB_POOL_SIZE: env.DB_POOL_SIZE ?? EMBEDDED_POOL_SIZE, DB_PREPARED_STATEMENTS: 'false' }
      : {};

    // Each app is the same Nest module tree it is on its own; closing one shuts its modules down in order.
    const proxy = await startInferenceProxy(
      {
        config: embedded
          ? loadInferenceProxyConfig({ ...metricsPortOf(env, 'inference-proxy'), ...pool })
          : proxyConfig,
        databaseUrl: appUrls.inferenceProxy,
        backends,
        ...(bus ? { bus } : {}),
      },
      host,
    );
    cleanups.push(() => proxy.close());

    const cds = await startCdsHooks(
      {
        config: embedded ? loadCdsHooksConfig({ ...metricsPortOf(env, 'cds-hooks'), ...pool }) : cdsConfig,
        databaseUrl: appUrls.cdsHooks,
        ...(bus ? { bus } : {}),
      },
      host,
    );
    cleanups.push(() => cds.close());

    // The JWT audience must name the port the gateway really listens on, so a random port is chosen up front.
    const gatewayPort = env.GATEWAY_PORT === '0' ? String(await freePort(host)) : env.GATEWAY_PORT;
    const publicBaseUrl = env.PUBLIC_BASE_URL ?? `http://localhost:${gatewayPort ?? '8080'}`;
    // Staff sign in to the console against a development identity provider unless a real one is configured.
    let devIdp: LocalDevIdp | undefined;
    if (!env.STAFF_OIDC_ISSUER) {
      devIdp = await startLocalDevIdp({
        env,
        host,
        publicBaseUrl,
        users: opts.devIdpUsers ?? ensureDevIdpUsers(join(dirname(devClientDir), 'dev-idp-users.json')),
      });
      const started = devIdp;
      cleanups.push(() => started.idp.close());
    }
    const gatewayConfig = loadGatewayConfig({
      ...metricsPortOf(env, 'gateway'),
      ...pool,
      ...(gatewayPort ? { GATEWAY_PORT: gatewayPort } : {}),
      PUBLIC_BASE_URL: publicBaseUrl,
      CDS_HOOKS_URL: env.CDS_HOOKS_URL ?? cds.url,
      ...devIdp?.gatewayEnv,
    });
    const devEhrClient = await ensureDevEhrClient(devClientDir, gatewayConfig.PUBLIC_BASE_URL);
    // Registered before the gateway starts, so its first registry load already knows the client.
    await registerDevClient(databaseUrl, devEhrClient);
    const gateway = await startGateway({ config: gatewayConfig, databaseUrl: appUrls.gateway }, host);
    cleanups.push(() => gateway.close());

    return {
      gatewayUrl: gateway.url,
      cdsHooksUrl: cds.url,
      inferenceProxyUrl: proxy.url,
      metricsUrls: {
        gateway: gateway.metricsUrl ?? '',
        cdsHooks: cds.metricsUrl ?? '',
        inferenceProxy: proxy.metricsUrl ?? '',
      },
      databaseUrl,
      publicBaseUrl: gatewayConfig.PUBLIC_BASE_URL,
      internalTokenSecret: gatewayConfig.INTERNAL_TOKEN_SECRET,
      devEhrClient,
      devIdp,
      modelDouble,
      mode: {
        database: embedded ? 'embedded' : 'external',
        transport: bus ? 'in-process' : 'kafka',
        model: modelDouble ? 'double' : 'backends',
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function registerDevClient(databaseUrl: string, client: DevEhrClient): Promise<void> {
  const ds = createDataSource({ url: databaseUrl, poolSize: 1, applicationName: 'meditron-local-stack' });
  await ds.initialize();
  try {
    await new ClientTableStore(ds).upsert(devClientRegistration(client));
  } finally {
    await ds.destroy();
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Connections per app on embedded PGlite (see startLocalStack). */
const EMBEDDED_POOL_SIZE = '16';

const METRICS_PORT_OFFSET = { gateway: 0, 'cds-hooks': 1, 'inference-proxy': 2 } as const;

/**
 * The three apps share one environment here, so one METRICS_PORT cannot serve them all: the gateway takes it,
 * cds-hooks the next port, the proxy the one after. Unset, each app keeps its own default (9464, 9465, 9466);
 * 0 stays 0 (free ports).
 */
function metricsPortOf(env: Env, app: keyof typeof METRICS_PORT_OFFSET): Env {
  const raw = env.METRICS_PORT;
  if (raw === undefined || raw.trim() === '' || !/^\d+$/.test(raw.trim()) || Number(raw) === 0) return env;
  return { ...env, METRICS_PORT: String(Number(raw) + METRICS_PORT_OFFSET[app]) };
}
