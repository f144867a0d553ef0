// One pool, many commands, one login: argv is quoted for the remote shell, output captured.
// expect: hello from sshmux
import { SshPool } from 'sshmux';

const dest = process.env.SSHMUX_EXAMPLE_DEST ?? 'demo';
const pool = new SshPool(); // reads ~/.ssh/config and ~/.ssh/known_hosts, as ssh does
try {
  // An argument with spaces and quotes arrives as one argument: no shell string is built.
  const { stdout } = await pool.exec(dest, ['printf', '%s\n', "hello from sshmux, it's me"], {
    encoding: 'utf8',
    check: true, // a non-zero exit rejects with ExecError instead of being a result
  });
  process.stdout.write(stdout);

  // Ten commands at once share the one authenticated connection.
  const uptimes = await Promise.all(
    Array.from({ length: 10 }, () => pool.exec(dest, ['cat', '/proc/uptime'], { encoding: 'utf8' })),
  );
  console.log(`10 commands, ${pool.stats().connections} connection(s)`);

  // A failing command is a result unless check: true.
  const failed = await pool.exec(dest, ['sh', '-c', 'exit 3']);
  console.log(`exit status ${failed.exitCode}, ${uptimes.length} uptimes read`);
} finally {
  await pool.close(); // drains running work, then closes the connections
}
