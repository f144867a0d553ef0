import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocksOf } from '../examples/code-blocks.js';
import { exampleHome, SERVER_FIXTURES } from '../examples/example-home.js';
import { ROOT, runProgram } from '../helpers/cli.js';
import { integrationRequired } from '../helpers/docker.js';
import { btrfsAvailable, CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';

/**
 * Every examples/*.mjs script and every js/mjs block of README.md and docs/*.md, run as a user
 * runs them (plain Node, `import … from 'sshmux'` resolving to the build) under each Node binary
 * in SSHMUX_EXAMPLE_NODES (CI: Node 20 and Node 24) against the container.
 */
const NODES = (process.env.SSHMUX_EXAMPLE_NODES ?? process.execPath).split(':').filter(Boolean);
const nodes = NODES.map((bin) => {
  const version = execFileSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  return { bin, version, major: Number(version.split('.')[0]) };
});
const MARKDOWN = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const blocks = codeBlocksOf(ROOT, MARKDOWN);
const fragments = blocks.filter((b) => b.mode === 'fragment');
const SCRIPTS = readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.mjs'))
  .sort();
const PRELOAD = path.join(ROOT, 'test', 'examples', 'home-preload.mjs');
const canBtrfs = btrfsAvailable();

function needs(file: string): string[] {
  const m = /^\/\/ needs: (.+)$/m.exec(readFileSync(file, 'utf8'));
  const words = m?.[1]?.trim().split(/\s+/) ?? [];
  for (const w of words) if (w !== 'root' && w !== 'btrfs') throw new Error(`${file}: unknown need \`${w}\``);
  return words;
}

function expectations(text: string): string[] {
  return [...text.matchAll(/^\/\/ expect: (.+)$/gm)].map((m) => m[1]?.trim() ?? '');
}

let sshd: StartedSshd;
let env: NodeJS.ProcessEnv;
let run: string;

beforeAll(async () => {
  sshd = await startSshd({ btrfs: canBtrfs, btrfsSize: '200M' });
  await sshd.sh(SERVER_FIXTURES);
  const made = exampleHome(sshd, sshd.tmpDir, ROOT);
  run = made.run;
  const scratch = path.join(sshd.tmpDir, 'scratch');
  mkdirSync(scratch);
  env = {
    ...process.env,
    HOME: made.home,
    SSHMUX_EXAMPLE_DEST: 'demo',
    SSHMUX_EXAMPLE_ROOT_DEST: 'demo-root',
    SSHMUX_EXAMPLE_HOSTS: 'web01,web02,web03,web04,web05',
    SSHMUX_EXAMPLE_CONFIG: made.config,
    SSHMUX_EXAMPLE_SCRATCH: scratch,
    ...(sshd.btrfs && {
      SSHMUX_EXAMPLE_BTRFS_SOURCE: sshd.btrfs.source,
      SSHMUX_EXAMPLE_BTRFS_TARGET: CONTAINER_BTRFS,
    }),
  };
});

afterAll(async () => {
  await sshd?.stop();
});

async function runNode(bin: string, file: string): Promise<string> {
  const r = await runProgram(bin, ['--import', PRELOAD, file], { env, cwd: run, timeoutMs: 60_000 });
  const out = r.stdout.toString();
  if (r.code !== 0)
    throw new Error(`${file} exited ${r.code ?? r.signal}\n--- stdout\n${out}--- stderr\n${r.stderr}`);
  return out;
}

describe('the docs code blocks', () => {
  it('are all runnable or marked (fragments counted, never skipped silently)', () => {
    const count = (mode: CodeBlock['mode']): number => blocks.filter((b) => b.mode === mode).length;
    process.stderr.write(
      `examples: ${count('run')} runnable, ${count('node24')} Node 24+ and ${fragments.length} fragment blocks: ${fragments.map((b) => b.where).join(', ')}\n`,
    );
    expect(count('run')).toBeGreaterThanOrEqual(5);
    expect(count('node24')).toBeGreaterThanOrEqual(1);
  });

  const modern = nodes.filter((n) => n.major >= 24);
  // Without a Node >= 24 the `await using` forms cannot run here: a visible skip, a failure in CI.
  it.skipIf(modern.length === 0 && !integrationRequired())(
    'Node 24+ forms have a Node >= 24 to run on',
    () => {
      expect(
        modern.map((n) => n.version),
        'add a Node >= 24 to SSHMUX_EXAMPLE_NODES',
      ).not.toEqual([]);
    },
  );

  for (const node of nodes) {
    for (const [i, block] of blocks.entries()) {
      if (block.mode === 'fragment' || (block.mode === 'node24' && node.major < 24)) continue;
      it(`${block.where} on Node ${node.version}`, async () => {
        const file = path.join(run, `block-${i}.mjs`);
        writeFileSync(file, block.code);
        await runNode(node.bin, file);
      });
    }
  }
});

describe('examples/*.mjs', () => {
  it('has the scripts the README lists', () => {
    const readme = readFileSync(path.join(ROOT, 'examples', 'README.md'), 'utf8');
    for (const s of SCRIPTS) expect(readme).toContain(`\`${s}\``);
    expect(SCRIPTS.length).toBeGreaterThanOrEqual(4);
  });

  for (const node of nodes) {
    for (const script of SCRIPTS) {
      const file = path.join(ROOT, 'examples', script);
      const want = needs(file);
      const missing = want.includes('btrfs') && !canBtrfs;
      it.skipIf(missing && !integrationRequired())(`${script} on Node ${node.version}`, async () => {
        if (missing) throw new Error(`${script} needs ${want.join(' ')} (root and btrfs-progs)`);
        const out = await runNode(node.bin, file);
        for (const e of expectations(readFileSync(file, 'utf8'))) expect(out).toContain(e);
      });
    }
  }
});
