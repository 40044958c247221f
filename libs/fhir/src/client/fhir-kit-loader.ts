import type { Client, ClientConfig } from 'fhir-kit-client' with { 'resolution-mode': 'import' };
import { importEsm } from './esm-import';

/**
 * Loads fhir-kit-client (ESM-only) once, and keeps its `debug` logging off.
 *
 * fhir-kit-client logs request URLs (patient ids), headers (the bearer token) and response bodies (PHI)
 * through the `debug` package when `DEBUG` matches `fhir-kit-client:*`. An operator setting `DEBUG=*` to chase
 * an unrelated problem must not turn that on, so the namespace is negated on every client creation.
 */

interface DebugModule {
  enabled(namespace: string): boolean;
  enable(namespaces: string): void;
  disable(): string;
}

type FhirKitModule = { Client: new (config: ClientConfig) => Client };

const FHIR_KIT_NAMESPACES = ['fhir-kit-client:info', 'fhir-kit-client:error'];

let loaded: Promise<{ fhirKit: FhirKitModule; debug: DebugModule }> | undefined;

function load(): Promise<{ fhirKit: FhirKitModule; debug: DebugModule }> {
  loaded ??= (async () => {
    const fhirKit = await importEsm<FhirKitModule>('fhir-kit-client');
    // The same `debug` instance fhir-kit-client imports (npm hoists its single copy beside it).
    const debugModule = await importEsm<{ default: DebugModule }>('debug');
    return { fhirKit, debug: debugModule.default };
  })();
  // A failed load (e.g. a missing package) must not be cached forever.
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

export function silenceFhirKitLogging(debug: DebugModule): void {
  if (!FHIR_KIT_NAMESPACES.some((ns) => debug.enabled(ns))) return;
  const current = debug.disable();
  debug.enable([current, '-fhir-kit-client:*'].filter(Boolean).join(','));
}

export async function createFhirKitClient(config: ClientConfig): Promise<Client> {
  const { fhirKit, debug } = await load();
  silenceFhirKitLogging(debug);
  return new fhirKit.Client(config);
}

/** For tests: the `debug` module fhir-kit-client logs through. */
export async function fhirKitDebug(): Promise<DebugModule> {
  return (await load()).debug;
}
