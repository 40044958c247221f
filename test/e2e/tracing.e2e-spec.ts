import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Topics } from '@app/contracts';
import { runMigrations } from '@app/database';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { ensureAppsBuilt } from '../support/app-build';
import { AppProcess, freePort } from '../support/app-process';
import type { TestKey } from '../support/ehr-tokens';
import { startFhirServer, type FhirTestServer } from '../support/fhir-server';
import { fastKafkaConsumerConfig, startMockKafka, type MockKafka } from '../support/kafka-broker/mock-kafka';
import { LocalStackProcess } from '../support/local-stack-process';
import { OtlpReceiver, SpanKinds, type ReceivedSpan } from '../support/otlp-receiver';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TEST_INTERNAL_TOKEN_SECRET } from '../support/stack-env';
import {
  callHook,
  FHIR_TOKEN,
  FIXTURE,
  modelCallsIn,
  otelEnv,
  patientIdentifiers,
  probeSpan,
  probeWithPatientQuery,
  registerTraceClient,
  SERVICE,
  spanStrings,
  traceComplete,
  traceIdOf,
  TraceView,
} from './tracing.harness';

const LOGS = path.join(__dirname, '..', 'artifacts', 'tracing');
const HOOK_STEPS = ['hook.validate', 'hook.prefetch', 'hook.summary', 'hook.prompt', 'hook.dispatch', 'hook.wait'];
// The in-process Medplum server can take seconds per search on a loaded machine.
const FHIR_TIMEOUT_MS = '15000';

interface Running {
  readonly gatewayUrl: string;
  readonly publicBaseUrl: string;
}

/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, each app exports its spans over OTLP/HTTP to a receiver this suite runs,
 * and one hook call is one trace: gateway -> cds-hooks (steps, FHIR, Postgres) -> transport -> proxy (queue, route,
 * attempt, model call) -> the model server's traceparent. Run as production runs it: the three apps as separate
 * processes over Kafka, and `npm start`'s single process with the in-process bus.
 */
describe('one trace per hook call (OpenTelemetry over OTLP/HTTP)', () => {
  let receiver: OtlpReceiver;
  let fhir: FhirTestServer;
  let double: ModelDouble;
  let dist: string;

  beforeAll(async () => {
    dist = await ensureAppsBuilt();
    receiver = await new OtlpReceiver().start();
    fhir = await startFhirServer({ fixtures: [FIXTURE], requireBearer: FHIR_TOKEN });
    double = await startModelDouble({ port: 0, flavour: 'vllm' });
  });

  afterAll(async () => {
    await double?.close();
    await fhir?.close();
    await receiver?.close();
  });

  async function traceOfOneCall(running: Running, key: TestKey): Promise<{ traceId: string; view: TraceView }> {
    await probeWithPatientQuery(running.gatewayUrl);
    const res = await callHook({ ...running, key, fhirBaseUrl: fhir.baseUrl });
    const body = await res.text();
    expect({ status: res.status, body: res.status === 200 ? 'ok' : body }).toEqual({ status: 200, body: 'ok' });
    const traceId = traceIdOf(res.headers.get('traceparent'));
    const spans = await receiver.waitFor(traceComplete(traceId), `complete trace ${traceId}`);
    return { traceId, view: new TraceView(spans.filter((s) => s.traceId === traceId)) };
  }

  /** The links every mode has; returns the dispatch span and the proxy's consumer span. */
  function expectHookTrace(view: TraceView, traceId: string): { dispatch: ReceivedSpan; consumer: ReceivedSpan } {
    const gatewayServer = view.one(
      'the root (gateway) server span',
      (s) => s.kind === SpanKinds.server && !s.parentSpanId,
    );
    expect(gatewayServer.attributes['http.route'] ?? gatewayServer.name).toContain('cds-services');
    const auth = view.named('gateway.auth', 'meditron-gateway');
    expect(view.descends(auth, gatewayServer)).toBe(true);
    const forward = view.one(
      'the gateway forward',
      (s) => s.scope === 'meditron-gateway' && s.kind === SpanKinds.client,
    );
    expect(view.descends(forward, gatewayServer)).toBe(true);
    expect(forward.attributes['http.response.status_code']).toBe(200);

    // cds-hooks continues the gateway's trace: its server span is the forward's child, across HTTP.
    const cdsServer = view.one(
      'the cds-hooks server span',
      (s) => s.kind === SpanKinds.server && s.parentSpanId === forward.spanId,
    );
    const hook = view.named(`hook ${SERVICE}`, 'meditron-cds-hooks');
    expect(view.descends(hook, cdsServer)).toBe(true);
    for (const step of HOOK_STEPS)
      expect(view.parentOf(view.named(step, 'meditron-cds-hooks'))?.spanId).toBe(hook.spanId);
    const fhirCall = view.one('the FHIR call', (s) => s.scope === 'meditron-fhir');
    expect(fhirCall).toMatchObject({ name: 'GET Immunization', kind: SpanKinds.client });
    expect(fhirCall.attributes).toMatchObject({ 'fhir.interaction': 'search-type', 'http.request.method': 'GET' });
    expect(view.descends(fhirCall, view.named('hook.prefetch'))).toBe(true);
    const queries = view.spans.filter(
      (s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql',
    );
    expect(queries.some((q) => view.descends(q, hook))).toBe(true);

    // The proxy: a consumer span for the message, then the queue wait, the backend choice, the attempt, the model call.
    const consumer = view.named(`process ${Topics.inferenceRequests}`, 'meditron-inference-proxy');
    expect(consumer.kind).toBe(SpanKinds.consumer);
    expect(view.parentOf(view.named('inference.queue_wait'))?.spanId).toBe(consumer.spanId);
    const route = view.named('inference.route');
    expect(view.descends(route, consumer)).toBe(true);
    const attempt = view.named('inference.attempt');
    expect(view.descends(attempt, consumer)).toBe(true);
    const model = view.one('the model call', (s) => s.attributes['gen_ai.request.model'] !== undefined);
    expect(model.kind).toBe(SpanKinds.client);
    expect(view.parentOf(model)?.spanId).toBe(attempt.spanId);
    // The route span names the engine the attempt then called.
    expect(model.attributes['meditron.backend.id']).toMatch(/^vllm@127\.0\.0\.1:/);
    expect(route.attributes['meditron.backend.id']).toBe(model.attributes['meditron.backend.id']);
    expect(attempt.attributes['meditron.backend.id']).toBe(model.attributes['meditron.backend.id']);
    expect(model.attributes).toMatchObject({
      'gen_ai.operation.name': expect.stringMatching(/^(chat|text_completion)$/),
      'gen_ai.provider.name': 'vllm',
      'gen_ai.usage.input_tokens': expect.any(Number),
      'gen_ai.usage.output_tokens': expect.any(Number),
      'gen_ai.response.finish_reasons': [expect.any(String)],
      'http.response.status_code': 200,
    });
    // The model server got the traceparent of that span: its own spans (vLLM with OTLP) would join this trace.
    expect(modelCallsIn(double, traceId)).toEqual([{ parentSpanId: model.spanId }]);
    return { dispatch: view.named('hook.dispatch'), consumer };
  }

  async function expectNoPatientData(): Promise<void> {
    // The refused call with the patient in its query string: its span is there, with the path and no query.
    const probes = (await receiver.waitFor((all) => all.some(probeSpan), 'the refused probe call')).filter(probeSpan);
    for (const probe of probes) {
      const target = probe.attributes['http.target'] ?? probe.attributes['url.path'];
      expect(target).toBe('/cds-services');
    }
    const identifiers = patientIdentifiers();
    expect(identifiers.length).toBeGreaterThan(3);
    const spans = receiver.spans();
    expect(spans.length).toBeGreaterThan(20);
    const leaks = spans.flatMap((s) =>
      spanStrings(s)
        .filter((text) => identifiers.some((id) => text.includes(id)))
        .map((text) => `${s.service}/${s.scope}:${s.name}: ${text.slice(0, 120)}`),
    );
    expect(leaks).toEqual([]);
  }

  describe('three processes over Kafka', () => {
    let kafka: MockKafka;
    let db: TestDatabase;
    let key: TestKey;
    const apps: AppProcess[] = [];
    let running: Running;

    beforeAll(async () => {
      kafka = await startMockKafka({
        brokers: 1,
        topics: [
          { name: Topics.inferenceRequests, partitions: 1 },
          { name: Topics.inferenceRequestsDeadLetter, partitions: 1 },
        ],
      });
      db = await createTestDatabase('e2e_tracing_kafka');
      await runMigrations(db.url);
      key = await registerTraceClient(db.url, fhir.baseUrl);
      const common = {
        ...otelEnv(receiver.endpoint),
        DATABASE_URL: db.url,
        KAFKA_BROKERS: kafka.bootstrapServers.join(','),
        KAFKA_MAX_WAIT_MS: String(fastKafkaConsumerConfig.maxWaitTimeInMs),
        KAFKA_SESSION_TIMEOUT_MS: String(fastKafkaConsumerConfig.sessionTimeout),
        KAFKA_HEARTBEAT_MS: String(fastKafkaConsumerConfig.heartbeatInterval),
        INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
        LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
        DB_POOL_SIZE: '4',
      };
      const log = (app: string) => path.join(LOGS, `kafka-${app}.log`);
      apps.push(
        await AppProcess.start({
          dist,
          app: 'inference-proxy',
          logFile: log('inference-proxy'),
          env: { ...common, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` },
        }),
      );
      const cds = await AppProcess.start({
        dist,
        app: 'cds-hooks',
        logFile: log('cds-hooks'),
        env: { ...common, HOOK_DEADLINE_MS: '40000', FHIR_TIMEOUT_MS },
      });
      apps.push(cds);
      const gatewayPort = await freePort();
      const publicBaseUrl = `http://127.0.0.1:${gatewayPort}`;
      apps.push(
        await AppProcess.start({
          dist,
          app: 'gateway',
          port: gatewayPort,
          logFile: log('gateway'),
          env: { ...common, PUBLIC_BASE_URL: publicBaseUrl, CDS_HOOKS_URL: cds.url, UPSTREAM_TIMEOUT_MS: '45000' },
        }),
      );
      running = { gatewayUrl: publicBaseUrl, publicBaseUrl };
    });

    afterAll(async () => {
      for (const app of apps.reverse()) await app.stop(5_000);
      await kafka?.stop();
      await db?.drop();
    });

    it('exports one trace across the gateway, cds-hooks and the proxy, linked through the Kafka message', async () => {
      const { traceId, view } = await traceOfOneCall(running, key);
      const { dispatch, consumer } = expectHookTrace(view, traceId);
      // Each app under its own service name.
      expect(new Set(view.spans.map((s) => s.service))).toEqual(
        new Set(['meditron-gateway', 'meditron-cds-hooks', 'meditron-inference-proxy']),
      );
      expect(view.named('gateway.auth').service).toBe('meditron-gateway');
      expect(view.named('hook.prompt').service).toBe('meditron-cds-hooks');
      expect(consumer.service).toBe('meditron-inference-proxy');
      // cds-hooks' producer span (kafkajs) is the dispatch's child and the proxy's consumer span the producer's.
      const producer = view.one('the Kafka producer span', (s) => s.kind === SpanKinds.producer);
      expect(producer).toMatchObject({ service: 'meditron-cds-hooks' });
      expect(producer.attributes['messaging.system']).toBe('kafka');
      expect(view.descends(producer, dispatch)).toBe(true);
      expect(view.parentOf(consumer)?.spanId).toBe(producer.spanId);
      expect(consumer.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': Topics.inferenceRequests,
      });
    });

    it('puts no identifier of the fixture patient in any span attribute, event or name', async () => {
      await expectNoPatientData();
    });
  });

  describe('one process, in-process bus (npm start)', () => {
    let db: TestDatabase;
    let key: TestKey;
    let stack: LocalStackProcess;
    let running: Running;
    const devClientDir = mkdtempSync(path.join(tmpdir(), 'tracing-dev-client-'));

    beforeAll(async () => {
      db = await createTestDatabase('e2e_tracing_local');
      await runMigrations(db.url);
      key = await registerTraceClient(db.url, fhir.baseUrl);
      const gatewayPort = await freePort();
      const publicBaseUrl = `http://127.0.0.1:${gatewayPort}`;
      stack = await LocalStackProcess.start({
        dist,
        gatewayPort,
        logFile: path.join(LOGS, 'local-stack.log'),
        env: {
          ...otelEnv(receiver.endpoint),
          DATABASE_URL: db.url,
          INFERENCE_BACKENDS: `vllm=${double.baseUrl}`,
          PUBLIC_BASE_URL: publicBaseUrl,
          CDS_HOOKS_PORT: '0',
          INFERENCE_PROXY_PORT: '0',
          METRICS_PORT: '0',
          DEV_EHR_CLIENT_DIR: devClientDir,
          INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
          HOOK_DEADLINE_MS: '40000',
          UPSTREAM_TIMEOUT_MS: '45000',
          FHIR_TIMEOUT_MS,
          LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
        },
      });
      running = { gatewayUrl: stack.gatewayUrl, publicBaseUrl };
    });

    afterAll(async () => {
      await stack?.stop();
      await db?.drop();
      rmSync(devClientDir, { recursive: true, force: true });
    });

    it('exports one trace through the in-process bus: the consumer span is the dispatch span’s child', async () => {
      const { traceId, view } = await traceOfOneCall(running, key);
      const { dispatch, consumer } = expectHookTrace(view, traceId);
      expect(new Set(view.spans.map((s) => s.service))).toEqual(new Set(['meditron-cds-local']));
      expect(view.parentOf(consumer)?.spanId).toBe(dispatch.spanId);
      expect(consumer.attributes['messaging.system']).toBe('in_process');
      expect(view.spans.some((s) => s.kind === SpanKinds.producer)).toBe(false);
    });

    it('puts no identifier of the fixture patient in any span attribute, event or name', async () => {
      await expectNoPatientData();
    });
  });
});
