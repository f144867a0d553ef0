// An ssh-agent on a Windows named pipe, run by node.exe under Wine for the Windows tier:
//   node agent-pipe-server.mjs PIPE KEYFILE DIR
// Serves the ed25519 key in KEYFILE (list and sign), writes DIR/ready once listening and one
// line per request to DIR/requests, and exits when DIR/stop appears (or after 5 minutes).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';

const [pipe, keyFile, dir] = process.argv.slice(2);
const key = ssh2.utils.parseKey(readFileSync(keyFile));
if (key instanceof Error) throw key;

const str = (b) => {
  const body = Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
};
const msg = (type, ...parts) => {
  const body = Buffer.concat([Buffer.from([type]), ...parts]);
  return Buffer.concat([str(body).subarray(0, 4), body]);
};

function answer(req) {
  const type = req[0];
  appendFileSync(path.join(dir, 'requests'), `${type}\n`);
  if (type === 11) {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(1);
    return msg(12, n, str(key.getPublicSSH()), str('tier-agent-key'));
  }
  if (type === 13) {
    const blobLen = req.readUInt32BE(1);
    const blob = req.subarray(5, 5 + blobLen);
    const dataLen = req.readUInt32BE(5 + blobLen);
    const data = req.subarray(9 + blobLen, 9 + blobLen + dataLen);
    if (!blob.equals(key.getPublicSSH())) return msg(5);
    return msg(14, str(Buffer.concat([str(key.type), str(key.sign(data))])));
  }
  return msg(5);
}

const server = net.createServer((socket) => {
  let pending = Buffer.alloc(0);
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const n = pending.readUInt32BE(0);
      socket.write(answer(pending.subarray(4, 4 + n)));
      pending = pending.subarray(4 + n);
    }
  });
});
server.listen(pipe, () => writeFileSync(path.join(dir, 'ready'), pipe));
const started = Date.now();
setInterval(() => {
  if (existsSync(path.join(dir, 'stop')) || Date.now() - started > 300_000) process.exit(0);
}, 100);
