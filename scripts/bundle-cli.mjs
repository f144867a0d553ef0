// `npm run build`'s second step: dist/cli/main.js and everything it imports, bundled by esbuild
// into one CommonJS file, dist/cli/bundle.cjs, which the `sshmux` binary (dist/cli/sshmux.cjs)
// compiles with a V8 code cache. One file instead of ~100 ES modules to resolve, read and
// compile on every `sshmux ssh`. ssh2 (a native binding) and pino (worker-thread transports
// found by file name) stay in node_modules; the daemon and -f's child are started from dist/cli/
// as before, so the bundle must sit there too (`./daemon.js`, `../../package.json`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [path.join(root, 'dist/cli/main.js')],
  outfile: path.join(root, 'dist/cli/bundle.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', 'pino'],
  // `import.meta.url` of every module is the bundle's own: it sits where dist/cli/*.js do.
  define: { 'import.meta.url': '__sshmuxBundleUrl' },
  banner: {
    js: '"use strict";\nconst __sshmuxBundleUrl = require("node:url").pathToFileURL(__filename).href;',
  },
  legalComments: 'none',
  logLevel: 'warning',
});
