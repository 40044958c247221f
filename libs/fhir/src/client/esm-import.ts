/**
 * Loads an ESM-only package (fhir-kit-client 2.x, the Llama tokenizers) from this CommonJS code base.
 *
 * A plain dynamic `import()`: tsc keeps it as is under `module: node16` (tsconfig.json), and swc keeps it under
 * `module.ignoreDynamic` (jest.config.js), instead of rewriting it to a `require()` that cannot load a package
 * whose `exports` only offer an `import` condition. Node, or jest's ESM loader under --experimental-vm-modules,
 * does the import.
 */
export function importEsm<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
