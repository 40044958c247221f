import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { route } from './router';
import { DEFAULT_LIMITS } from './context-limits';
import { DEFAULT_TGI_VERSION, DoubleState } from './state';
import type { ModelDouble, ModelDoubleOptions } from './types';

export const DEFAULT_MODEL = 'meditron-70b';
export const DEFAULT_HOST = '127.0.0.1';

/** Starts the double (a test/development stand-in for a vLLM or TGI server, not a model). */
export async function startModelDouble(options: ModelDoubleOptions = {}): Promise<ModelDouble> {
  const flavour = options.flavour ?? 'vllm';
  const host = options.host ?? DEFAULT_HOST;
  const state = new DoubleState(
    flavour,
    options.model ?? DEFAULT_MODEL,
    options.latency ?? { ttftMs: 0, perTokenMs: 0 },
    {
      mode: options.mode ?? 'instruct',
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      tgiVersion: options.tgiVersion ?? DEFAULT_TGI_VERSION,
      maxNumQueuedReqs: options.maxNumQueuedReqs,
    },
  );

  const server = createServer((req, res) => {
    route(state, req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { message: 'model double internal error', type: 'InternalServerError', param: null, code: 500 },
          }),
        );
      } else {
        res.destroy();
      }
    });
  });
  await listen(server, options.port ?? 0, host);

  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    baseUrl: `${url}/v1`,
    flavour,
    model: state.model,
    setLatency: (l) => state.setLatency(l),
    injectFault: (f) => state.injectFault(f),
    clearFaults: () => state.faults.clear(),
    enqueueResponse: (text) => state.enqueueResponse(text),
    requests: () => state.recorder.requests(),
    stats: () => state.recorder.stats(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
