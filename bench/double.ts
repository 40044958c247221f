/** The model double in its own process (so its CPU and memory are not the pipeline's); controlled over HTTP. */
import { startModelDouble } from '@app/model-double';

void startModelDouble({ port: 0, flavour: 'vllm', model: process.env.INFERENCE_MODEL ?? 'meditron-70b' }).then(
  (double) => {
    process.send?.({ type: 'ready', url: double.url, baseUrl: double.baseUrl });
    const stop = (): void => {
      void double.close().finally(() => process.exit(0));
    };
    process.on('message', (m: unknown) => {
      if (m === 'stop') stop();
    });
    process.once('SIGTERM', stop);
    process.once('disconnect', stop);
  },
  (e: unknown) => {
    process.send?.({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  },
);
