import type { StartedSshd } from '../helpers/sshd.js';
import { freePort } from '../helpers/sshd.js';

/**
 * The topology. The harness container shares the host's network, so anything its main sshd
 * can reach, this process can reach too. The inner sshd therefore lives in a network namespace
 * of its own (loopback only). The jump host accepts TCP in the host namespace (a small perl
 * inetd) but runs each `sshd -i` session inside the inner namespace, so its direct-tcpip
 * forwards reach the inner sshd, and nothing else does.
 */
const INETD = `
use strict; use IO::Socket::INET;
my ($port, $nspid) = @ARGV;
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 16, ReuseAddr => 1)
  or die "listen: $!";
$SIG{CHLD} = 'IGNORE';
while (1) {
  my $c = $l->accept or next;
  my $pid = fork;
  if (defined $pid && $pid == 0) {
    close $l;
    open(STDIN, '<&', $c) or die; open(STDOUT, '>&', $c) or die;
    exec('nsenter', "--net=/proc/$nspid/ns/net", '/usr/sbin/sshd', '-i', '-E', '/var/log/sshd-jump.log') or die;
  }
  close $c;
}
`;

/** Ports of the jump host (host namespace) and of the inner sshd (reachable only through it). */
export interface JumpTopology {
  jumpPort: number;
  innerPort: number;
}

/** Start the jump host and the inner sshd inside `sshd`'s container. */
export async function startJumpTopology(sshd: StartedSshd): Promise<JumpTopology> {
  const jumpPort = await freePort();
  const innerPort = await freePort(); // free on the host: a direct connection must find nothing there
  const script = Buffer.from(INETD).toString('base64');
  await sshd.sh(
    [
      // A user+network namespace owned by root: root outside it keeps all capabilities in it.
      'unshare -U -n sleep 1000000 </dev/null >/dev/null 2>&1 & echo $! > /run/inner-ns.pid',
      'sleep 0.3; P=$(cat /run/inner-ns.pid)',
      'nsenter --net=/proc/$P/ns/net ip link set lo up',
      `nsenter --net=/proc/$P/ns/net /usr/sbin/sshd -o ListenAddress=127.0.0.1 -p ${innerPort} -o PidFile=/run/sshd-inner.pid -E /var/log/sshd-inner.log`,
      `echo ${script} | base64 -d > /usr/local/sbin/jump-inetd.pl`,
      `perl /usr/local/sbin/jump-inetd.pl ${jumpPort} $P </dev/null >/var/log/jump-inetd.log 2>&1 &`,
      `for i in $(seq 50); do ss -ltn | grep -q ":${jumpPort} " && break; sleep 0.1; done`,
      `ss -ltn | grep -q ":${jumpPort} "`,
      `nsenter --net=/proc/$P/ns/net ss -ltn | grep -q "127.0.0.1:${innerPort} "`,
    ].join('\n'),
  );
  return { jumpPort, innerPort };
}
