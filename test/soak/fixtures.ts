import { writeFileSync } from 'node:fs';
import net from 'node:net';
import type { StartedSshd } from '../helpers/sshd.js';
import type { OpKind } from './report.js';

/** Weighted operation mix; btrfs ones only when the harness has btrfs, the long ones only with --long. */
export function mixOf(btrfs: boolean, long: boolean): [OpKind, number][] {
  if (!long) {
    return [
      ['exec', 30],
      ['spawn', 16],
      ['manifest', 12],
      ['push', 12],
      ['daemon', 12],
      ...(btrfs
        ? ([
            ['btrfs-full', 6],
            ['btrfs-incr', 12],
          ] as [OpKind, number][])
        : []),
    ];
  }
  // Cheap in-process operations dominate, so 30 minutes on a shared 2-core machine reach 10,000.
  return [
    ['exec', 44],
    ['forward', 14],
    ['spawn', 6],
    ['manifest', 6],
    ['push', 4],
    ['daemon', 8],
    ['forward-cli', 1.5],
    ['scp', 2],
    ['push-full', 3],
    ['kill-ssh', 2],
    ['kill-push', 1],
    ['kill-daemon', 1],
    ...(btrfs
      ? ([
          ['btrfs-full', 1],
          ['btrfs-incr', 3],
          ['kill-btrfs', 1],
        ] as [OpKind, number][])
      : []),
  ];
}

export function pick(mix: [OpKind, number][], r: number): OpKind {
  const total = mix.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [k, w] of mix) {
    x -= w;
    if (x < 0) return k;
  }
  return 'exec';
}

/** A server that sends every byte back and then ends (the forwards' target). */
export async function echoServer(): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** An ssh_config naming the proxy as `soak` (backup) and `soak-root` (root), for `sshmux` processes. */
export function writeSoakSshConfig(
  file: string,
  sshd: StartedSshd,
  port: number,
  knownHosts: string,
): string {
  writeFileSync(
    file,
    ['soak', 'soak-root']
      .map((alias) =>
        [
          `Host ${alias}`,
          `  HostName ${sshd.host}`,
          `  Port ${port}`,
          `  User ${alias === 'soak' ? 'backup' : 'root'}`,
          `  IdentityFile ${sshd.keyPath}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${knownHosts}`,
          '  StrictHostKeyChecking yes',
          '  BatchMode yes',
          '  ServerAliveInterval 1',
          '  ServerAliveCountMax 3',
          '  ConnectTimeout 5',
          '',
        ].join('\n'),
      )
      .join(''),
    { mode: 0o600 },
  );
  return file;
}
