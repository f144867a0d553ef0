// spawn: stream local data through a remote command and its output back, with backpressure.
// expect: 1048576 bytes back, sha256 matches
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SshPool } from 'sshmux';

const dest = process.env.SSHMUX_EXAMPLE_DEST ?? 'demo';
const pool = new SshPool();
try {
  const data = randomBytes(1024 * 1024);
  const proc = await pool.spawn(dest, ['cat']); // the remote `cat` echoes stdin to stdout
  const hash = createHash('sha256');
  let bytes = 0;
  await Promise.all([
    // Writes wait for the SSH window: a slow remote slows this side, memory stays flat.
    pipeline(Readable.from([data]), proc.stdin),
    pipeline(
      proc.stdout,
      new Writable({
        write(chunk, _encoding, done) {
          bytes += chunk.length;
          hash.update(chunk);
          done();
        },
      }),
    ),
    // Always drain stderr too: both streams share the channel's window.
    pipeline(proc.stderr, process.stderr, { end: false }),
  ]);
  const { code } = await proc.exited;
  const same = hash.digest('hex') === createHash('sha256').update(data).digest('hex');
  console.log(`${bytes} bytes back, sha256 ${same ? 'matches' : 'DIFFERS'}, exit ${code}`);
  if (!same || code !== 0) process.exitCode = 1;
} finally {
  await pool.close();
}
