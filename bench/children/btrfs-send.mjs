// Child process for the btrfs scenarios: one sendSnapshot (or, with mode 'pull', pullSnapshot) over a new pool, timed from the call
// to its result, with this process's own CPU (not btrfs send's), as the OpenSSH side times the
// ssh process alone. Prints one JSON line {ms, cpuSec, bytes, resumedBytes}.
// argv[2]: JSON { dist, host, port, user, key, knownHosts, cipher, source, target, parent, mode?,
// resume?, rateLimit?, abortAfterBytes? }. With abortAfterBytes the send is aborted once that many bytes
// crossed (an interrupted transfer, its resume spool kept) and the line is {aborted: bytes}.
import { benchHost } from './bench-host.mjs';

const opts = JSON.parse(process.argv[2]);
const { sshmux, host } = await benchHost(opts);
const { SshPool } = sshmux;
const replicate = opts.mode === 'pull' ? sshmux.pullSnapshot : sshmux.sendSnapshot;

const pool = new SshPool({ resolve: () => host });
try {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ac = new AbortController();
  let seen = 0;
  const cut = opts.abortAfterBytes;
  const send = replicate(pool, {
    source: opts.source,
    target: opts.target,
    parent: opts.parent,
    ...(opts.resume !== undefined && { resume: opts.resume }),
    ...(opts.rateLimit !== undefined && { rateLimit: opts.rateLimit }),
    ...(cut !== undefined && {
      progressInterval: 0,
      onProgress: (e) => {
        seen = e.bytes;
        if (e.bytes >= cut) ac.abort(new Error('interrupted by the bench'));
      },
      signal: ac.signal,
    }),
  });
  if (cut !== undefined) {
    const failed = await send.then(
      () => false,
      () => true,
    );
    if (!failed) throw new Error('the transfer to interrupt finished first');
    process.stdout.write(`${JSON.stringify({ aborted: seen })}\n`);
  } else {
    const r = await send;
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const line = { ms, cpuSec: (cpu.user + cpu.system) / 1e6, bytes: r.bytes, resumedBytes: r.resumedBytes };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
} finally {
  await pool.close();
}
