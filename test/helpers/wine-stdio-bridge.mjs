// The Windows half of the Windows tier's pipe relay (see wine-git-ssh.mjs, the Linux half).
// Run by node.exe under Wine: `node.exe wine-stdio-bridge.mjs <port> <script> <args…>`. It
// connects three times to 127.0.0.1:<port> (tagged `i` for stdin+stdout, `e` for stderr, `s`
// for the exit status), then runs `node.exe <script> <args…>` with real Windows pipes as its
// stdio — what node.exe gets from a caller on real Windows — and relays them.
import { spawn } from 'node:child_process';
import net from 'node:net';

// Wine resets the profile variables at start; the caller's travel as SSHMUX_WINE_PROFILE_* (wine-profile.mjs).
const PREFIX = 'SSHMUX_WINE_PROFILE_';
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith(PREFIX) && value !== undefined) process.env[name.slice(PREFIX.length)] = value;
}

const [port, ...argv] = process.argv.slice(2);
const connect = (tag) =>
  new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true }, () => {
      s.write(tag);
      resolve(s);
    });
    s.once('error', reject);
  });
const [io, err, status] = await Promise.all(['i', 'e', 's'].map(connect));
const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
io.pipe(child.stdin);
child.stdin.on('error', () => {});
child.stdout.pipe(io);
child.stderr.pipe(err);
const ended = (stream) => new Promise((resolve) => stream.once('end', resolve));
const outputs = Promise.all([ended(child.stdout), ended(child.stderr)]);
child.on('exit', async (code, signal) => {
  // The output pipes end when their last holder closes them: a daemon the CLI started that
  // inherited them would keep git waiting. The relay ends anyway a moment after the exit, and
  // names the invocation in SSHMUX_WIN_BRIDGE_HELD, which the tests assert stays empty.
  const held = await Promise.race([
    outputs.then(() => false),
    new Promise((resolve) => setTimeout(() => resolve(true), 1_000)),
  ]);
  // The tier records it: whether the CLI's output pipes outlived it (test/windows/git.test.ts).
  if (held && process.env.SSHMUX_WIN_BRIDGE_HELD) {
    (await import('node:fs')).appendFileSync(process.env.SSHMUX_WIN_BRIDGE_HELD, `${argv.join(' ')}\n`);
  }
  io.end();
  err.end();
  status.end(String(code ?? (signal ? 128 + 9 : 255)));
  setTimeout(() => process.exit(0), 200);
});
