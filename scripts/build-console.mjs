// Builds the operator console (src/console/web: Preact + graphql-ws) into dist/console, which
// radgraph serves at /console (src/console). Part of `npm run build`.
//   node scripts/build-console.mjs
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'src', 'console', 'web');
const out = path.join(root, 'dist', 'console');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(web, 'main.tsx')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css'])
  copyFileSync(path.join(web, file), path.join(out, file));
console.log(`console built into ${path.relative(root, out)}/`);
