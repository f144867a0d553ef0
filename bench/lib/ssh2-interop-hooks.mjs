// Module hooks for the bench's own process only. test/helpers/sshd.ts does
// `import { utils } from 'ssh2'`, which vitest's interop allows but plain Node ESM (and so tsx)
// rejects: Node cannot see `utils` among ssh2's CommonJS exports. For importers under test/
// only, 'ssh2' resolves to a small ESM facade that re-exports every key of the CommonJS module.
// dist/ is never redirected: the bench measures the package as it ships.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const FACADE = 'sshmux-bench:ssh2-facade';

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'ssh2' && context.parentURL?.includes('/test/helpers/')) {
    const real = await nextResolve(specifier, context);
    return { url: `${FACADE}?${encodeURIComponent(real.url)}`, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.startsWith(`${FACADE}?`)) {
    const real = decodeURIComponent(url.slice(FACADE.length + 1));
    const file = fileURLToPath(real);
    const keys = Object.keys(createRequire(real)(file));
    const source = [
      `import { createRequire } from 'node:module';`,
      `const m = createRequire(${JSON.stringify(real)})(${JSON.stringify(file)});`,
      'export default m;',
      ...keys.map((k) => `export const ${k} = m.${k};`),
    ].join('\n');
    return { format: 'module', source, shortCircuit: true };
  }
  return nextLoad(url, context);
}
