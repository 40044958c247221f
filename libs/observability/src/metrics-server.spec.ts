import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY, MetricsServer, MetricsServerModule } from './metrics-server';

@Injectable()
class Work {
  readonly done: Counter<'outcome'>;
  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.done = new Counter({ name: 'test_work_total', help: 'work', labelNames: ['outcome'], registers: [registry] });
  }
}

@Module({ providers: [Work] })
class WorkModule {}

async function startApp(app: string) {
  const nest = await NestFactory.createApplicationContext(
    { module: class Root {}, imports: [MetricsServerModule.forRoot({ app, port: 0, host: '127.0.0.1' }), WorkModule] },
    { logger: false },
  );
  await nest.init();
  const url = nest.get(MetricsServer).url;
  if (!url) throw new Error('metrics server not listening');
  return { nest, url, work: nest.get(Work) };
}

describe('MetricsServerModule', () => {
  it('serves the app registry on GET /metrics, with default process metrics labelled by app', async () => {
    const { nest, url, work } = await startApp('unit-a');
    try {
      work.done.inc({ outcome: 'ok' });
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toContain('test_work_total{outcome="ok"} 1');
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds\{app="unit-a"\} /m);
      expect(text).toMatch(/^process_resident_memory_bytes\{app="unit-a"\} \d+/m);
    } finally {
      await nest.close();
    }
  });

  it('answers 404 to anything but GET /metrics', async () => {
    const { nest, url } = await startApp('unit-b');
    try {
      expect((await fetch(`${url}/`)).status).toBe(404);
      expect((await fetch(`${url}/metrics/x`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: 'POST', body: 'x' })).status).toBe(404);
      expect((await fetch(`${url}/metrics?x=1`)).status).toBe(200);
    } finally {
      await nest.close();
    }
  });

  it('keeps two apps in one process apart, and stops listening when the app closes', async () => {
    const a = await startApp('unit-c');
    const b = await startApp('unit-d');
    a.work.done.inc({ outcome: 'ok' });
    const textB = await (await fetch(`${b.url}/metrics`)).text();
    expect(textB).not.toContain('app="unit-c"');
    expect(textB).not.toMatch(/^test_work_total\{/m);
    await a.nest.close();
    await b.nest.close();
    await expect(fetch(`${a.url}/metrics`)).rejects.toThrow();
  });
});
