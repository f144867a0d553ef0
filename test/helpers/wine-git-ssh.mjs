#!/usr/bin/env node
// The Linux half of the Windows tier's pipe relay, for callers that need live pipes (git's
// GIT_SSH_COMMAND): `node wine-git-ssh.mjs <sshmux ssh args…>` behaves like `sshmux ssh …` run
// by Windows node.exe. Wine cannot hand node.exe a Unix pipe as stdio (EBADF), so this listens
// on a loopback port and starts wine-stdio-bridge.mjs under Wine, which connects back three
// times (stdin+stdout, stderr, exit status) and runs the CLI with Windows pipes. Configured by
// SSHMUX_WIN_NODE_EXE, SSHMUX_WIN_WINEPREFIX, SSHMUX_WIN_CLI and SSHMUX_WIN_BRIDGE (Windows paths
// for the last two), set by WineSandbox.gitEnv().
import { spawn } from 'node:child_process';
import net from 'node:net';

const need = (name) => {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`wine-git-ssh: ${name} is not set\n`);
    process.exit(255);
  }
  return v;
};
const nodeExe = need('SSHMUX_WIN_NODE_EXE');
const prefix = need('SSHMUX_WIN_WINEPREFIX');
const cli = need('SSHMUX_WIN_CLI');
const bridge = need('SSHMUX_WIN_BRIDGE');

let exitCode;
let open = 3;
const done = () => {
  if (--open === 0) process.exit(exitCode ?? 255);
};
const server = net.createServer({ allowHalfOpen: true }, (sock) => {
  sock.once('readable', function first() {
    const head = sock.read(1);
    if (head === null) {
      sock.once('readable', first);
      return;
    }
    const tag = head.toString();
    if (tag === 'i') {
      process.stdin.pipe(sock);
      sock.pipe(process.stdout, { end: false });
      sock.on('end', done);
    } else if (tag === 'e') {
      sock.pipe(process.stderr, { end: false });
      sock.on('end', done);
    } else {
      let text = '';
      sock.on('data', (d) => {
        text += d.toString();
      });
      sock.on('end', () => {
        exitCode = Number.parseInt(text, 10);
        done();
      });
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  // No stdio of ours for Wine: node.exe cannot use these pipes, and everything travels by TCP.
  const child = spawn('wine', [nodeExe, bridge, String(port), cli, 'ssh', ...process.argv.slice(2)], {
    env: { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all' },
    stdio: 'ignore',
  });
  child.on('error', (err) => {
    process.stderr.write(`wine-git-ssh: ${err.message}\n`);
    process.exit(255);
  });
  child.on('exit', (code) => {
    // The bridge died before relaying an exit status: fail as ssh does.
    if (exitCode === undefined) setTimeout(() => process.exit(code || 255), 500).unref();
  });
});
