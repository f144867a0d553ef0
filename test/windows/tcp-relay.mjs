// A ProxyCommand for the Windows tier, run by node.exe (CreateProcess of the line, as
// Win32-OpenSSH runs ProxyCommand): relays its stdin/stdout to HOST:PORT.
//   node tcp-relay.mjs HOST PORT
import net from 'node:net';

const [host, port] = process.argv.slice(2);
const socket = net.connect(Number(port), host);
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('close', () => process.exit(0));
socket.on('error', (err) => {
  process.stderr.write(`tcp-relay: ${err.message}\n`);
  process.exit(1);
});
