import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** What ships: the built package (npm run demo builds it first), typed from the sources. */
export type Sshmux = typeof import('../../src/index.js');

export async function loadBuiltPackage(): Promise<Sshmux> {
  // A file URL: on Windows `import('C:\\…')` is refused as an unknown URL scheme `c:`.
  return (await import(pathToFileURL(path.join(import.meta.dirname, '../../dist/index.js')).href)) as Sshmux;
}

// A reader that stops early (`npm run demo | head`) must not kill the demo before it has
// stopped its server and its daemon: later lines are dropped instead.
process.stdout.on('error', () => {});

export const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;
