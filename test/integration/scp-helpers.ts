import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { runProgram } from '../helpers/cli.js';
import type { StartedSshd } from '../helpers/sshd.js';
import { CLI, type CliResult, MuxSandbox } from './mux-helpers.js';

export type Mode = 'daemon' | 'direct';

/**
 * One line per entry under a directory, links followed (scp -r copies what a link points to):
 * the name's bytes in hex, its type, and the sha256 of a file. The same script runs locally and
 * in the container, so two trees are byte-identical exactly when the listings are equal.
 */
export const MANIFEST_SCRIPT = `export LC_ALL=C; cd "$1" && find -L . -mindepth 1 -print0 | while IFS= read -r -d '' f; do
  n=$(printf %s "$f" | od -An -tx1 | tr -d ' \\n')
  if [ -d "$f" ]; then echo "$n d"; else echo "$n f $(sha256sum < "$f" | cut -d' ' -f1)"; fi
done`;

export function localManifest(dir: string): string {
  return sorted(execFileSync('bash', ['-c', MANIFEST_SCRIPT, 'manifest', dir], { encoding: 'utf8' }));
}

export async function remoteManifest(sshd: StartedSshd, dir: string): Promise<string> {
  const r = await sshd.exec(['bash', '-c', MANIFEST_SCRIPT, 'manifest', dir]);
  if (r.exitCode !== 0) throw new Error(`remote manifest failed: ${r.stderr}`);
  return sorted(r.stdout);
}

const sorted = (listing: string): string => `${listing.trim().split('\n').sort().join('\n')}\n`;

const name = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** Names scp must carry through untouched: spaces, newlines, dashes, quotes, glob magic, bytes that are not UTF-8. */
export const HOSTILE_NAMES: Buffer[] = [
  name('with space'),
  name('new\nline'),
  name('-leading-dash'),
  name(`quo'te"s`),
  name('*?[glob]'),
  name('back\\slash'),
  name([0xff, 0xfe], 'latin', [0xe9]),
  name('L'.repeat(255)),
];

/** The hostile tree: every name above as a file, an empty file, a 20 MiB file, nested dirs, links to a file and a dir. */
export function writeHostileTree(root: string): void {
  const at = (...p: Buffer[]) =>
    Buffer.concat([Buffer.from(`${root}/`), ...p.flatMap((b, i) => (i ? [Buffer.from('/'), b] : [b]))]);
  mkdirSync(root, { recursive: true });
  for (const [i, n] of HOSTILE_NAMES.entries()) writeFileSync(at(n), `content ${i}\n`);
  writeFileSync(at(name('empty')), '');
  writeFileSync(at(name('big.bin')), randomBytes(20 * 1024 * 1024));
  mkdirSync(at(name('sub dir')));
  mkdirSync(at(name('sub dir'), name('-deeper')));
  writeFileSync(at(name('sub dir'), name('inner\nfile')), 'inner');
  writeFileSync(at(name('sub dir'), name('-deeper'), name([0x80], 'x')), randomBytes(70_000));
  symlinkSync('with space', at(name('link-to-file')));
  symlinkSync('sub dir', at(name('link-to-dir')));
}

/** `sshmux scp` against the container, on the daemon path or in-process. */
export class ScpRunner {
  readonly sandbox: MuxSandbox;
  constructor(readonly sshd: StartedSshd) {
    this.sandbox = new MuxSandbox(sshd);
  }

  /** ssh options in scp's spelling (-P for the port). */
  options(): string[] {
    return [
      '-i',
      this.sshd.keyPath,
      '-o',
      `UserKnownHostsFile=${this.sshd.knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-P',
      String(this.sshd.port),
    ];
  }

  remote(p: string, user = 'root'): string {
    return `${user}@${this.sshd.host}:${p}`;
  }

  run(
    tool: 'scp' | 'sftp',
    mode: Mode,
    args: string[],
    input?: string,
    env: Record<string, string> = {},
    cwd?: string,
  ): Promise<CliResult> {
    return runProgram(process.execPath, [CLI, tool, ...args], {
      env: this.sandbox.env({ ...env, ...(mode === 'direct' && { SSHMUX_NO_DAEMON: '1' }) }),
      ...(input !== undefined && { input }),
      ...(cwd !== undefined && { cwd }),
    });
  }

  scp(mode: Mode, args: string[]): Promise<CliResult> {
    return this.run('scp', mode, [...this.options(), ...args]);
  }

  /** OpenSSH's own scp with the same options, for the differential checks. */
  openssh(args: string[]): Promise<CliResult> {
    // By name, as a user runs it, so that its messages start with `scp:` (it prints its argv[0]).
    const env = this.sandbox.env({ PATH: `/usr/bin:${process.env.PATH ?? ''}` });
    return runProgram('scp', [...this.options(), ...args], { env });
  }

  async cleanup(): Promise<void> {
    await this.sandbox.cleanup();
  }
}
