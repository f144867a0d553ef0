// Shared by scripts/gen-ssh-g-fixtures.mjs and ssh-g-parity.test.ts so that fixtures are staged,
// ssh is run and outputs are normalised in exactly one way on both sides.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SSH = '/usr/bin/ssh';
export const FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../fixtures/ssh_config',
);
const NOT_STAGED = new Set(['cases.json', 'expected']);

export function listFixtures() {
  return readdirSync(FIXTURES)
    .filter((n) => statSync(path.join(FIXTURES, n)).isDirectory())
    .sort();
}

export function readCases(name) {
  return JSON.parse(readFileSync(path.join(FIXTURES, name, 'cases.json'), 'utf8')).cases;
}

export function localEnvironment() {
  const info = os.userInfo();
  return { home: info.homedir, user: info.username, hostname: os.hostname(), uid: info.uid };
}

function copyTree(from, to, dir) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (from === path.join(FIXTURES, path.basename(from)) && NOT_STAGED.has(name)) continue;
    const src = path.join(from, name);
    const dst = path.join(to, name);
    if (statSync(src).isDirectory()) copyTree(src, dst, dir);
    else {
      writeFileSync(dst, readFileSync(src, 'utf8').replaceAll('@DIR@', dir));
      chmodSync(dst, 0o644);
    }
  }
}

/** Copy a fixture to a fresh temp dir (`@DIR@` → that dir, files 0644 as ssh demands). */
export function stageFixture(name) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sshmux-ssh-g-'));
  const dir = path.join(root, name);
  const home = path.join(root, 'home');
  mkdirSync(home);
  copyTree(path.join(FIXTURES, name), dir, dir);
  return {
    dir,
    home,
    config: path.join(dir, 'config'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Run the real `ssh -G` on a staged fixture. */
export function runSsh(staged, testCase) {
  const args = (testCase.args ?? []).map((a) => a.replaceAll('@DIR@', staged.dir));
  const r = spawnSync(SSH, ['-G', '-F', staged.config, ...args, testCase.dest], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', HOME: staged.home, SHELL: '/bin/sh', LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function sshVersion() {
  // Under Wine the Linux /usr/bin/ssh is visible (as Z:\usr\bin\ssh) but cannot run.
  if (process.platform === 'win32' || !existsSync(SSH)) return undefined;
  return spawnSync(SSH, ['-V'], { encoding: 'utf8' }).stderr.split(/[ ,]/)[0];
}

function word(text, from, to) {
  const esc = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(?<![A-Za-z0-9_])${esc}(?![A-Za-z0-9_])`, 'g'), to);
}

/** Replace what depends on the machine: staged dir, home, local user and host names, %C hashes. */
export function normalize(text, staged, local) {
  let out = text.replaceAll(staged.dir, '@DIR@').replaceAll(staged.home, '@TMPHOME@');
  // Under Windows node the staged directory is a drive path: `@DIR@\config` is `@DIR@/config`.
  if (process.platform === 'win32') out = out.replaceAll('@DIR@\\', '@DIR@/');
  out = out.replace(/(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])/g, '@SHA1@');
  out = word(out, local.home, '@HOME@');
  out = word(out, local.hostname, '@LOCALHOST@');
  out = word(out, local.hostname.split('.')[0], '@LOCALSHORT@');
  return word(out, local.user, '@LOCALUSER@');
}

/** The ssh command-line subset the cases use, as ResolveOptions. */
export function toResolveOptions(args = []) {
  const o = { overrides: [], identityFiles: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (a === '-o') {
      const m = /^([^=\s]+)\s*[=\s]\s*(.*)$/.exec(v);
      o.overrides.push([m[1], m[2]]);
      i++;
    } else if (a === '-p') {
      o.port = Number(v);
      i++;
    } else if (a === '-l') {
      o.user = v;
      i++;
    } else if (a === '-i') {
      o.identityFiles.push(v);
      i++;
    } else if (a === '-4') o.addressFamily = 'inet';
    else if (a === '-6') o.addressFamily = 'inet6';
    else throw new Error(`unsupported case argument ${a}`);
  }
  return o;
}
