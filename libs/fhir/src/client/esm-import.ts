/**
 * A real dynamic `import()` that survives compilation to CommonJS.
 *
 * tsc (`module: commonjs`) and swc (jest) rewrite `import(x)` to `require(x)`, which cannot load ESM-only
 * packages whose `exports` only offer an `import` condition (fhir-kit-client 2.x). A function built at runtime
 * is invisible to both compilers, so Node (or jest's ESM loader under `--experimental-vm-modules`) imports.
 *
 * The source carries a per-evaluation nonce: V8 caches compiled `new Function` code by source text together
 * with the dynamic-import callback of the first context that compiled it, so under jest a second test file
 * would import through the first file's torn-down environment ("import after the Jest environment has been
 * torn down"). A unique source per module evaluation gets its own compilation.
 */
const nonce = `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
const dynamicImport = new Function('specifier', `return import(specifier); // ${nonce}`) as (
  specifier: string,
) => Promise<unknown>;

export function importEsm<T>(specifier: string): Promise<T> {
  return dynamicImport(specifier) as Promise<T>;
}
