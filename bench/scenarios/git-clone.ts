import { rmSync } from 'node:fs';
import path from 'node:path';
import { alternateMany, countingLogins, makeRow, ratioTarget, type SideSpec, wanOr } from '../lib/measure.js';
import { USER } from '../lib/openssh.js';
import { run } from '../lib/proc.js';
import { SshmuxCli } from '../lib/sshmux-cli.js';
import type { Ctx, Row } from '../lib/types.js';

const REPO = `/home/${USER}/repo.git`;

/** Make a bare repository of ~200 files (~5 MB) in the container, owned by backup. */
async function makeRepo(ctx: Ctx): Promise<void> {
  await ctx.sshd.sh(
    [
      'set -e',
      'rm -rf /tmp/w && git init -q /tmp/w && cd /tmp/w',
      'for i in $(seq 1 200); do head -c 18000 /dev/urandom | base64 > f$i.txt; done',
      'git add . && git -c user.email=b@example.com -c user.name=bench commit -qm one',
      'for i in $(seq 1 50); do echo $i >> f$i.txt; done',
      'git -c user.email=b@example.com -c user.name=bench commit -qam two',
      `git clone -q --bare /tmp/w ${REPO}`,
    ].join('\n'),
    USER,
  );
}

/**
 * N concurrent `git clone` over ssh://, from cold each round: `sshmux ssh` as GIT_SSH_COMMAND
 * (its daemon starts with the first clone), plain ssh, and OpenSSH with ControlMaster=auto
 * (the first clone becomes the master; the others race it, as they do for real users).
 */
export async function gitCloneScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const n = ctx.sizes.clones;
  await makeRepo(ctx);
  const url = `ssh://${USER}@${ctx.endpoint.host}:${ctx.endpoint.port}${REPO}`;
  const cli = new SshmuxCli(ctx.openssh, ctx.tmp, 'rt-git');
  let cmCount = 0;

  const clones = async (sshCommand: string, env: NodeJS.ProcessEnv, tag: string) => {
    const dir = path.join(ctx.tmp, `clones-${tag}`);
    rmSync(dir, { recursive: true, force: true });
    const { result, logins } = await countingLogins(ctx, async () => {
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          run('git', ['clone', '-q', url, path.join(dir, `c${i}`)], {
            env: { ...env, GIT_SSH_COMMAND: sshCommand, GIT_TERMINAL_PROMPT: '0' },
            timeoutMs: 300_000,
          }),
        ),
      );
      const ms = performance.now() - t0;
      const failed = results.filter((r) => r.code !== 0);
      return { ms, ok: n - failed.length, firstError: failed[0]?.stderr.trim().split('\n')[0] };
    });
    rmSync(dir, { recursive: true, force: true });
    if (result.firstError) ctx.log(`  git ${tag}: ${n - result.ok} failed, e.g. ${result.firstError}`);
    return { value: result.ms, success: `${result.ok}/${n}`, logins };
  };

  const sides: SideSpec[] = [
    {
      label: 'GIT_SSH_COMMAND=sshmux ssh (daemon cold)',
      notMeasured: ctx.sshmux.unavailable,
      timeoutMs: 300_000,
      run: async () => {
        await cli.stop();
        try {
          const sample = await clones(cli.commandLine(cipher), cli.env, 'sshmux');
          if (sample.success === `0/${n}`) throw new Error('every clone failed (see log)');
          return sample;
        } finally {
          await cli.stop();
        }
      },
    },
    {
      label: 'GIT_SSH_COMMAND=ssh',
      run: () => clones(ctx.openssh.commandLine(cipher), process.env, 'ssh'),
    },
    {
      label: 'GIT_SSH_COMMAND=ssh, ControlMaster=auto',
      run: async () => {
        const socket = path.join(ctx.tmp, `cmgit${++cmCount}`);
        const command = `${ctx.openssh.commandLine(cipher)} -o ControlMaster=auto -o ControlPath=${socket} -o ControlPersist=60`;
        try {
          return await clones(command, process.env, 'cm');
        } finally {
          await run('ssh', ['-S', socket, '-O', 'exit', ctx.openssh.target], { timeoutMs: 10_000 });
        }
      },
    },
  ];
  const [mux, plain, cm] = await alternateMany(ctx, `git ${n}`, ctx.sizes.heavyRounds, sides);
  const group = `${n} concurrent git clones`;
  return [
    ...(await gitFetchRows(ctx, url)),
    makeRow({
      id: 'git-plain',
      group,
      title: 'vs plain ssh, wall',
      unit: 'ms',
      better: 'lower',
      sshmux: mux!,
      openssh: plain!,
      target: wanOr(ctx, 'plain ssh', FASTER('plain ssh')),
    }),
    makeRow({
      id: 'git-cm',
      group,
      title: 'vs ControlMaster=auto, wall',
      unit: 'ms',
      better: 'lower',
      sshmux: mux!,
      openssh: cm!,
      target: wanOr(ctx, 'ControlMaster=auto', FASTER('ControlMaster=auto')),
    }),
  ];
}

/** "Faster than": a ratio below 1 (0.999 so that a tie is not a win). */
const FASTER = (what: string) => ratioTarget(`< 1.0× ${what} (faster)`, 0.999);

/** Concurrent fetches (git's default variant detection: a `-G` probe first). */
const FETCHES = 10;

/**
 * 10 concurrent `git fetch` in clones made beforehand, nothing new to fetch: what a CI job or a
 * script fetching many repositories does. Warm on every side, as a fetch loop is: the daemon
 * and the ControlMaster=auto master stay up between rounds.
 */
async function gitFetchRows(ctx: Ctx, url: string): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const base = path.join(ctx.tmp, 'fetches');
  rmSync(base, { recursive: true, force: true });
  const plainEnv = {
    ...process.env,
    GIT_SSH_COMMAND: ctx.openssh.commandLine(cipher),
    GIT_TERMINAL_PROMPT: '0',
  };
  for (let i = 0; i < FETCHES; i++) {
    const r = await run('git', ['clone', '-q', url, path.join(base, `f${i}`)], {
      env: plainEnv,
      timeoutMs: 300_000,
    });
    if (r.code !== 0) throw new Error(`git clone for the fetch rows failed: ${r.stderr.slice(-300)}`);
  }
  const cli = new SshmuxCli(ctx.openssh, ctx.tmp, 'rt-fetch');
  const socket = path.join(ctx.tmp, 'cmfetch');
  const cmCommand = `${ctx.openssh.commandLine(cipher)} -o ControlMaster=auto -o ControlPath=${socket} -o ControlPersist=300`;
  const fetches = async (sshCommand: string, env: NodeJS.ProcessEnv) => {
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: FETCHES }, (_, i) =>
        run('git', ['-C', path.join(base, `f${i}`), 'fetch', '-q', 'origin'], {
          env: { ...env, GIT_SSH_COMMAND: sshCommand, GIT_TERMINAL_PROMPT: '0' },
          timeoutMs: 300_000,
        }),
      ),
    );
    const ms = performance.now() - t0;
    const failed = results.filter((r) => r.code !== 0);
    if (failed.length === FETCHES) throw new Error(`every fetch failed: ${failed[0]!.stderr.trim()}`);
    return { value: ms, success: `${FETCHES - failed.length}/${FETCHES}` };
  };
  try {
    let unavailable = ctx.sshmux.unavailable;
    // Warm: the daemon and the master come up here, not in the first measured round.
    if (!unavailable)
      await fetches(cli.commandLine(cipher), cli.env).catch((e: Error) => (unavailable = e.message));
    await fetches(cmCommand, process.env);
    const [mux, plain, cm] = await alternateMany(ctx, `git fetch ${FETCHES}`, ctx.sizes.heavyRounds, [
      {
        label: 'GIT_SSH_COMMAND=sshmux ssh (daemon warm)',
        notMeasured: unavailable,
        run: () => fetches(cli.commandLine(cipher), cli.env),
      },
      { label: 'GIT_SSH_COMMAND=ssh', run: () => fetches(ctx.openssh.commandLine(cipher), process.env) },
      {
        label: 'GIT_SSH_COMMAND=ssh, ControlMaster=auto (master warm)',
        run: () => fetches(cmCommand, process.env),
      },
    ]);
    const group = `${FETCHES} concurrent git fetches`;
    return [
      makeRow({
        id: 'git-fetch-plain',
        group,
        title: 'vs plain ssh, wall',
        unit: 'ms',
        better: 'lower',
        sshmux: mux!,
        openssh: plain!,
        target: FASTER('plain ssh'),
      }),
      makeRow({
        id: 'git-fetch-cm',
        group,
        title: 'vs ControlMaster=auto, wall',
        unit: 'ms',
        better: 'lower',
        sshmux: mux!,
        openssh: cm!,
        target: FASTER('ControlMaster=auto'),
      }),
    ];
  } finally {
    await cli.stop();
    await run('ssh', ['-S', socket, '-O', 'exit', ctx.openssh.target], { timeoutMs: 10_000 });
    rmSync(base, { recursive: true, force: true });
  }
}
