// Developer tool: `npx tsx test/unit/config/differential/compare-one.ts 'config text' -G host …`
// prints both clients' outcome for one case, the way the differential tests compare them.
import { runOpenSsh, runSshmux, stage } from './run-both.js';

const [config, ...argv] = process.argv.slice(2);
const extra = process.env.EXTRA;
const files: Record<string, string> = { config: `${(config ?? '').replaceAll('\\n', '\n')}\n` };
if (extra !== undefined) files.extra = `${extra.replaceAll('\\n', '\n')}\n`;
const s = stage({ name: 'one', files, argv });
try {
  const a = runOpenSsh(s);
  const b = await runSshmux(s);
  const lines = (t: string) => t.split('\n');
  const oa = lines(a.stdout);
  const ob = lines(b.stdout);
  const onlyA = oa.filter((l) => !ob.includes(l));
  const onlyB = ob.filter((l) => !oa.includes(l));
  process.stdout.write(
    `status ssh=${a.status} sshmux=${b.status}\nstderr ssh:\n${JSON.stringify(a.stderr)}\nstderr sshmux:\n${JSON.stringify(b.stderr)}\nstdout only ssh: ${JSON.stringify(onlyA)}\nstdout only sshmux: ${JSON.stringify(onlyB)}\n`,
  );
} finally {
  s.cleanup();
}
