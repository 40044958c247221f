/* Runs the benchmark's TypeScript directly: @swc/core compiles each .ts file on require, with the tsconfig paths. */
'use strict';
const { transformSync } = require('@swc/core');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const paths = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).compilerOptions.paths;

require.extensions['.ts'] = function compile(module, filename) {
  const source = readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    filename,
    // Inline source maps would sit in every compiled module's text: off unless asked (BENCH_SOURCEMAPS=1).
    sourceMaps: process.env.BENCH_SOURCEMAPS === '1' ? 'inline' : false,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
      baseUrl: root,
      paths,
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
