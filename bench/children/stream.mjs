// Child process for the RSS scenario: stream N zero bytes into a remote `cat > /dev/null`
// through the built package, so the parent can sample this process's memory alone.
// argv[2]: JSON { dist, host, port, user, key, knownHosts, cipher, bytes }.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { benchHost } from './bench-host.mjs';

const opts = JSON.parse(process.argv[2]);
const { sshmux, host } = await benchHost(opts);
const { SshPool } = sshmux;

const zero = Buffer.alloc(1 << 20);
let left = opts.bytes;
const source = new Readable({
  highWaterMark: 256 * 1024,
  read() {
    if (left <= 0) return void this.push(null);
    const n = Math.min(256 * 1024, left);
    left -= n;
    this.push(zero.subarray(0, n));
  },
});

const pool = new SshPool();
try {
  const proc = await pool.spawn(host, 'cat >/dev/null');
  proc.stdout.resume();
  proc.stderr.resume();
  await pipeline(source, proc.stdin);
  const exit = await proc.exited;
  if (exit.code !== 0) throw new Error(`remote cat exited ${exit.code ?? exit.signal}`);
} finally {
  await pool.close();
}
if (process.env.BENCH_MEMORY === '1') {
  const mb = (n) => `${(n / 2 ** 20).toFixed(0)} MB`;
  const m = process.memoryUsage();
  process.stderr.write(
    `memoryUsage rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
  );
}
