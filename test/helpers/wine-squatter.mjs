// A stranger on the daemon's pipe name, for the Windows tier: run by node.exe under Wine as
// `node.exe wine-squatter.mjs <pipe name> <record file>`. It listens first, records every byte
// any client sends it (appended to <record file>), never answers, and writes `<record
// file>.ready` once it listens so the test knows when to go on.
import { appendFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

const [pipe, record] = process.argv.slice(2);
writeFileSync(record, '');
const server = net.createServer((socket) => {
  socket.on('data', (d) => appendFileSync(record, d));
  socket.on('error', () => {});
});
server.on('error', (err) => {
  writeFileSync(`${record}.ready`, `error ${err.code}`);
  process.exit(1);
});
server.listen(pipe, () => writeFileSync(`${record}.ready`, 'listening'));
