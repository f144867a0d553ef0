import { accessSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alternateMany, countingLogins, makeRow, sideMedian } from '../lib/measure.js';
import { SSH, USER } from '../lib/openssh.js';
import { run } from '../lib/proc.js';
import { CLI } from '../lib/sshmux.js';
import type { Ctx, Row, SideResult, Target } from '../lib/types.js';

const HOSTS = 50;
const PSSH = '/usr/bin/parallel-ssh';

/**
 * `true` on 50 hosts from cold, each its own connection and login (50 aliases of the one sshd,
 * at OpenSSH's default MaxStartups 10:30:100): `sshmux run` against `parallel-ssh` (Debian's
 * pssh, its default 32 in parallel) and a shell loop of `ssh`. All read one ssh_config.
 */
export async function runManyScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const s = ctx.sshd;
  const aliases = Array.from({ length: HOSTS }, (_, i) => `many${String(i + 1).padStart(2, '0')}`);
  const config = path.join(ctx.tmp, 'ssh_config.many');
  writeFileSync(
    config,
    [
      // A ServerAliveInterval of its own gives each alias its own sshmux pool key: 50 connections.
      ...aliases.flatMap((a, i) => [`Host ${a}`, `  ServerAliveInterval ${30 + i}`]),
      'Host *',
      `  HostName ${s.host}`,
      `  Port ${s.port}`,
      `  User ${USER}`,
      `  IdentityFile ${s.keyPath}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${s.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      `  Ciphers ${cipher}`,
      '',
    ].join('\n'),
  );
  const hostsFile = path.join(ctx.tmp, 'hosts.many');
  writeFileSync(hostsFile, `${aliases.join('\n')}\n`);
  const okCount = (text: string, pattern: RegExp): number => (text.match(pattern) ?? []).length;
  const timed = async (fn: () => Promise<{ ok: number }>) => {
    const { result, logins } = await countingLogins(ctx, async () => {
      const t0 = performance.now();
      const r = await fn();
      return { ms: performance.now() - t0, ok: r.ok };
    });
    return { value: result.ms, success: `${result.ok}/${HOSTS}`, logins };
  };
  // --quick: one round (the shell loop alone takes half a minute on a 2-core machine).
  const rounds = ctx.quick ? 1 : ctx.sizes.heavyRounds;
  const [mine, pssh, loop] = await alternateMany(ctx, 'run on 50 hosts', rounds, [
    {
      label: 'sshmux run (defaults: 8 handshakes at once)',
      notMeasured: ctx.sshmux.missing('SshPool'),
      run: () =>
        timed(async () => {
          const r = await run(process.execPath, [
            CLI,
            'run',
            '-F',
            config,
            '--hosts-file',
            hostsFile,
            '--json',
            '--',
            'true',
          ]);
          return { ok: okCount(r.stdout, /"status":"ok"/g) };
        }),
    },
    {
      label: 'parallel-ssh -p 32 (its default)',
      notMeasured: existsOrWhy(PSSH),
      run: () =>
        timed(async () => {
          const r = await run(PSSH, ['-x', `-F ${config}`, '-h', hostsFile, '-p', '32', '-t', '60', 'true']);
          return { ok: okCount(r.stdout, /\[SUCCESS\]/g) };
        }),
    },
    {
      label: 'shell loop of ssh',
      run: () =>
        timed(async () => {
          const script = `ok=0; for h in $(cat "$1"); do "${SSH}" -F "$2" "$h" true && ok=$((ok+1)); done; echo "ok=$ok"`;
          const r = await run('sh', ['-c', script, 'sh', hostsFile, config]);
          return { ok: Number(/ok=(\d+)/.exec(r.stdout)?.[1] ?? 0) };
        }),
    },
  ]);
  const target = (): Target => runManyTarget(mine!, pssh!);
  return [
    [pssh!, 'parallel-ssh', 'pssh'],
    [loop!, 'a shell loop of ssh', 'loop'],
  ].map(([openssh, what, id]) =>
    makeRow({
      id: `run-many-${id as string}`,
      group: `run on ${HOSTS} hosts (true, cold, one login each)`,
      title: `vs ${what as string}, wall time`,
      unit: 'ms',
      better: 'lower',
      sshmux: mine!,
      openssh: openssh as SideResult,
      target,
    }),
  );
}

function existsOrWhy(file: string): string | undefined {
  try {
    // Only its presence matters: the package (pssh) is in scripts/setup-test-host.sh.
    accessSync(file);
    return undefined;
  } catch {
    return `${file} missing (Debian package pssh)`;
  }
}

function runManyTarget(mine: SideResult, pssh: SideResult): Target {
  const text = `all ${HOSTS} ok every round, wall ≤ parallel-ssh`;
  const a = sideMedian(mine);
  const b = sideMedian(pssh);
  if (a === null || b === null) return { text, met: null };
  const allOk = (mine.successes ?? []).every((s) => s === `${HOSTS}/${HOSTS}`);
  return { text, met: allOk && a <= b };
}
