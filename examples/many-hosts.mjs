// One command on many hosts: bounded, staggered connection attempts (no MaxStartups refusal),
// each host's result as it ends, then a summary.
// expect: ok
import { SshPool } from 'sshmux';

const hosts = (process.env.SSHMUX_EXAMPLE_HOSTS ?? process.env.SSHMUX_EXAMPLE_DEST ?? 'demo').split(',');
const pool = new SshPool();
try {
  const run = pool.execMany(hosts, ['uname', '-sr'], {
    encoding: 'utf8',
    concurrency: 32, // hosts running at once
    connectConcurrency: 8, // handshakes in flight at once: below OpenSSH's MaxStartups (10)
    connectStagger: 20, // ms between connection attempts
    timeout: 30_000, // per host, once connected
    signal: AbortSignal.timeout(120_000), // the whole run: hosts not finished are reported aborted
  });
  for await (const r of run) {
    // status: 'ok' | 'failed' (non-zero exit or signal) | 'error' (could not connect/run) | 'aborted'
    console.log(
      `${r.host}: ${r.status} ${r.status === 'ok' ? r.stdout.trim() : (r.error?.message ?? `exit ${r.exitCode}`)}`,
    );
  }
  const s = await run.summary();
  console.log(`${s.total} hosts: ${s.ok} ok, ${s.failed} failed, ${s.errors} errors, ${s.aborted} aborted`);
  if (s.ok !== s.total) process.exitCode = 1;
} finally {
  await pool.close();
}
