// Upload a tree whose names hold any bytes, download it back, and resume an interrupted download.
// expect: round trip identical: true
// expect: resumed: true
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AbortedError, download, SshPool, upload } from 'sshmux';

const dest = process.env.SSHMUX_EXAMPLE_DEST ?? 'demo';
const scratch = await mkdtemp(path.join(process.env.SSHMUX_EXAMPLE_SCRATCH ?? os.tmpdir(), 'xfer-'));
const remoteDir = `sshmux-example-xfer-${process.pid}`; // relative: under the login's home
const sha = async (file) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

const pool = new SshPool();
try {
  const src = Buffer.from(path.join(scratch, 'src'));
  await mkdir(src);
  // A name that is not UTF-8 (byte 0xff) travels as a Buffer, byte for byte.
  const odd = Buffer.concat([src, Buffer.from('/caf\xe9 \xff -n', 'latin1')]);
  await writeFile(odd, 'not UTF-8\n');
  await writeFile(path.join(scratch, 'src', 'big.bin'), randomBytes(8 << 20));

  const up = await upload(pool, dest, src, remoteDir);
  console.log(`uploaded ${up.files} files, ${up.bytesTransferred} bytes`);

  const back = path.join(scratch, 'back');
  await download(pool, dest, remoteDir, back);
  const same = (await sha(path.join(back, 'big.bin'))) === (await sha(path.join(scratch, 'src', 'big.bin')));
  const oddBack = Buffer.concat([Buffer.from(back), Buffer.from('/caf\xe9 \xff -n', 'latin1')]);
  console.log(`round trip identical: ${same && (await readFile(oddBack, 'utf8')) === 'not UTF-8\n'}`);

  // Interrupt a download half-way, then continue it: the second call moves only the rest.
  const target = path.join(scratch, 'big copy.bin');
  const ac = new AbortController();
  try {
    await download(pool, dest, `${remoteDir}/big.bin`, target, {
      resume: true,
      signal: ac.signal,
      rateLimit: 16 << 20,
      onProgress: (p) => p.bytesDone >= 4 << 20 && ac.abort(),
    });
  } catch (err) {
    if (!(err instanceof AbortedError)) throw err;
  }
  const r = await download(pool, dest, `${remoteDir}/big.bin`, target, { resume: true });
  console.log(`second run transferred ${r.bytesTransferred} bytes, ${r.bytesResumed} resumed`);
  console.log(
    `resumed: ${r.bytesResumed > 0 && (await sha(target)) === (await sha(path.join(back, 'big.bin')))}`,
  );
  await pool.exec(dest, ['rm', '-rf', '--', remoteDir], { check: true });
} finally {
  await pool.close();
  await rm(scratch, { recursive: true, force: true });
}
