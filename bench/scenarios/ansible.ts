import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alternateMany, makeRow, ratioTarget, type SideSpec, skippedSide } from '../lib/measure.js';
import { USER } from '../lib/openssh.js';
import { run } from '../lib/proc.js';
import { CLI } from '../lib/sshmux.js';
import { SshmuxCli } from '../lib/sshmux-cli.js';
import type { Ctx, Row } from '../lib/types.js';

const ANSIBLE = '/usr/bin/ansible';

/**
 * Ansible ad-hoc `ping` and `copy` (Debian's ansible-core, its defaults: no pipelining, so each
 * task is several ssh calls and an sftp transfer) with sshmux as `ansible_ssh_executable` (and
 * sftp's `-S`), against Ansible with its own ControlMaster (`ssh_args` default:
 * `-C -o ControlMaster=auto -o ControlPersist=60s`). Both warm: the daemon and the master stay
 * up between runs, as they do for someone running ad-hoc commands in a row.
 */
export async function ansibleScenario(ctx: Ctx): Promise<Row[]> {
  if (!existsSync(ANSIBLE)) {
    const why = `${ANSIBLE} missing (Debian's ansible-core: scripts/setup-test-host.sh)`;
    return ['ansible-ping', 'ansible-copy'].map((id) =>
      makeRow({
        id,
        group: 'Ansible ad-hoc',
        title: id.slice(8),
        unit: 'ms',
        better: 'lower',
        sshmux: skippedSide('sshmux', why),
        openssh: skippedSide('ControlMaster', why),
      }),
    );
  }
  const cipher = ctx.ciphers[0]!;
  const dir = path.join(ctx.tmp, 'ansible');
  mkdirSync(path.join(dir, 'cp'), { recursive: true });
  const cli = new SshmuxCli(ctx.openssh, ctx.tmp, 'rt-ansible');
  // The very options `ssh` gets elsewhere in the bench, as one ssh_config for both sides.
  const s = ctx.sshd;
  const config = path.join(dir, 'ssh_config');
  writeFileSync(
    config,
    [
      'Host target',
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
  const wrapper = path.join(dir, 'sshmux-ssh');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${CLI}' ssh -F '${config}' "$@"\n`, {
    mode: 0o755,
  });
  const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    ...process.env,
    ...extra,
    ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(dir, 'cp'),
    ANSIBLE_LOCAL_TEMP: path.join(dir, 'tmp'),
    ANSIBLE_SSH_TRANSFER_METHOD: 'sftp',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_NOCOLOR: '1',
  });
  let copies = 0;
  const ansible = async (sshmux: boolean, module: string, args?: string): Promise<number> => {
    const vars = sshmux
      ? [`ansible_ssh_executable=${wrapper}`, `ansible_sftp_extra_args='-S ${wrapper}'`]
      : [`ansible_ssh_common_args='-F ${config}'`];
    const r = await run(
      ANSIBLE,
      [
        '-i',
        'target,',
        'all',
        ...vars.flatMap((v) => ['-e', v]),
        '-e',
        'ansible_python_interpreter=/usr/bin/python3',
        '-m',
        module,
        ...(args === undefined ? [] : ['-a', args]),
      ],
      { env: env(sshmux ? cli.env : {}), cwd: dir, timeoutMs: 180_000 },
    );
    if (r.code !== 0) throw new Error(`ansible ${module} exited ${r.code}: ${r.stdout.slice(-300)}`);
    return r.ms;
  };
  /** A copy that really transfers: new content every time. */
  const copy = (sshmux: boolean): Promise<number> => {
    const src = path.join(dir, `payload-${++copies}`);
    writeFileSync(src, randomBytes(64 * 1024));
    return ansible(sshmux, 'copy', `src=${src} dest=/home/${USER}/ansible-payload mode=0640`);
  };
  const n = ctx.quick ? 2 : 5;
  const timed = async (fn: () => Promise<number>) => {
    let total = 0;
    for (let i = 0; i < n; i++) total += await fn();
    return { value: total / n };
  };
  try {
    // Warm both: the daemon and Ansible's master come up here, not in the first measured run.
    let unavailable = ctx.sshmux.unavailable;
    if (!unavailable) await ansible(true, 'ping').catch((err: Error) => (unavailable = err.message));
    await ansible(false, 'ping');
    const rows: Row[] = [];
    for (const [id, what, fn] of [
      ['ansible-ping', 'ping', (m: boolean) => ansible(m, 'ping')],
      ['ansible-copy', 'copy (64 KiB, new content each run)', copy],
    ] as const) {
      const sides: SideSpec[] = [
        {
          label: 'ansible_ssh_executable=sshmux ssh (daemon warm)',
          notMeasured: unavailable,
          run: () => timed(() => fn(true)),
        },
        {
          label: "Ansible's ControlMaster (ssh_args default, master warm)",
          run: () => timed(() => fn(false)),
        },
      ];
      const [mux, cm] = await alternateMany(ctx, id, ctx.sizes.heavyRounds, sides);
      rows.push(
        makeRow({
          id,
          group: 'Ansible ad-hoc',
          title: `ansible all -m ${what}, per run`,
          unit: 'ms',
          better: 'lower',
          sshmux: mux!,
          openssh: cm!,
          target: ratioTarget("≤ 1.0× Ansible's ControlMaster", 1.0),
        }),
      );
    }
    return rows;
  } finally {
    await cli.stop();
    // Ansible's masters (ControlPersist 60s) are left running by Ansible itself: stop them.
    for (const socket of readdirSync(path.join(dir, 'cp')))
      await run('ssh', ['-S', path.join(dir, 'cp', socket), '-O', 'exit', 'target'], { timeoutMs: 10_000 });
  }
}
