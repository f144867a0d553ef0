// The WAN profile's link emulator in a process of its own, so its timers and copies do not share
// an event loop with the in-process pool being measured. Run with `node --import tsx`.
// argv[2]: JSON { targetPort, rttMs, upMbit, downMbit }. Prints `{"port":N}` once listening;
// then answers each stdin line `counts` with one JSON line of LinkCounts; exits at stdin's end.
import { createInterface } from 'node:readline';
import { LinkEmulator } from '../../test/helpers/link-emulator.js';

const link = await LinkEmulator.start(JSON.parse(process.argv[2] ?? '{}'));
process.stdout.write(`${JSON.stringify({ port: link.port, profile: link.describe() })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'counts') process.stdout.write(`${JSON.stringify(link.counts)}\n`);
  else process.stdout.write(`${JSON.stringify({ error: `unknown request ${JSON.stringify(line)}` })}\n`);
});
lines.on('close', () => {
  void link.close().then(() => process.exit(0));
});
