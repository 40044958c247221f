/** Maps the `@app/...` path aliases of tsconfig.json for jest. */
const path = require('node:path');
const { compilerOptions } = require('../tsconfig.json');

const root = path.resolve(__dirname, '..');
const pathsToModuleNameMapper = {};
for (const [alias, targets] of Object.entries(compilerOptions.paths)) {
  const pattern = '^' + alias.replace('/*', '/(.*)') + '$';
  pathsToModuleNameMapper[pattern] = path.join(root, targets[0].replace('/*', '/$1'));
}
module.exports = { pathsToModuleNameMapper };
