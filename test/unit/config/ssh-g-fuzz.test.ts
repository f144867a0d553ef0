import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describePosix, onWindows } from '../../helpers/posix-only.js';
import { type DiffCase, runOpenSsh, runSshmux, sshAvailable, stage } from './differential/run-both.js';

/**
 * Issue 18's differential fuzzing of the configuration: generated ssh_config files and argv
 * (keywords with good and bad values, Host and Match blocks, patterns and negations, tokens,
 * quoting and `=`, Include) given to `/usr/bin/ssh -G` and to sshmux's `ssh -G`; stdout, stderr
 * and the exit status must be equal. A disagreement fails with fast-check's seed and the
 * shrunk case; it is fixed, or listed in docs/config.md "Differences from OpenSSH" and kept out
 * of the generator with the reason. SSHMUX_CONFIG_FUZZ_RUNS sets the number (the long soak sets
 * more).
 */
const RUNS = Number(process.env.SSHMUX_CONFIG_FUZZ_RUNS ?? 120);
/**
 * CI replays one seed, so a run fails only when a change breaks agreement; the long soak and
 * `SSHMUX_CONFIG_FUZZ_SEED=random` explore new cases, where the known differences listed in
 * docs/config.md can show up.
 */
const SEED_ENV = process.env.SSHMUX_CONFIG_FUZZ_SEED ?? '20261202';
const SEED = SEED_ENV === 'random' ? Date.now() % 2 ** 31 : Number(SEED_ENV);

const live = sshAvailable();
if (!live && !onWindows && process.env.CI === 'true') {
  throw new Error('CI=true but /usr/bin/ssh is missing: install openssh-client (scripts/setup-test-host.sh)');
}

const name = fc.constantFrom('alpha', 'beta', 'gw', 'db1', 'web-2', 'h.example.com', '10.0.0.7', 'Alpha');
const pattern = fc.oneof(
  name,
  fc.constantFrom('*', '*.example.com', 'db?', 'web-*', '!beta', '!*.example.com', '10.0.0.*'),
);
const patternList = fc.array(pattern, { minLength: 1, maxLength: 3 }).map((p) => p.join(' '));
const token = fc.constantFrom('%h', '%r', '%u', '%p', '%n', '%%', '%d', '%C', '%L', '%l', '%i');
const word = fc.oneof(
  fc.constantFrom('root', 'backup', 'x', 'a b', 'über', ''),
  fc.tuple(fc.constantFrom('u', 'id_', '/tmp/k'), token).map(([a, b]) => a + b),
);
const bool = fc.constantFrom('yes', 'no', 'Yes', 'NO', 'true', 'false', 'maybe', 'ask', 'auto');
const num = fc.oneof(
  fc.integer({ min: 0, max: 70000 }).map(String),
  fc.constantFrom('-1', 'x', '0x10', '22 23', ''),
);
const time = fc.constantFrom('0', '5', '10s', '1m', '2h30m', 'none', 'yes', 'no', '-3', '1w');
const algos = fc
  .tuple(
    fc.constantFrom('', '+', '-', '^'),
    fc.array(
      fc.constantFrom(
        'aes128-ctr',
        'aes256-gcm@openssh.com',
        'chacha20-poly1305@openssh.com',
        'aes*',
        'nosuch',
        '3des-cbc',
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([p, l]) => p + l.join(','));
const hostKeyAlgos = fc
  .tuple(
    fc.constantFrom('', '+', '-', '^'),
    fc.array(
      fc.constantFrom(
        'ssh-ed25519',
        'rsa-sha2-512',
        'ecdsa-sha2-nistp256',
        'ssh-rsa',
        'ssh-ed25519*',
        'bogus',
      ),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  )
  .map(([p, l]) => p + l.join(','));

/** Keyword → its values; the keyword is spelled in any case. */
const keywordLine = fc.oneof(
  fc.tuple(fc.constant('Port'), num),
  fc.tuple(fc.constant('User'), word),
  fc.tuple(
    fc.constant('HostName'),
    fc.oneof(name, token, fc.constantFrom('%h.internal', 'x%hy', '[::1]', 'a b')),
  ),
  fc.tuple(fc.constant('IdentityFile'), word),
  fc.tuple(fc.constant('CertificateFile'), word),
  fc.tuple(fc.constant('UserKnownHostsFile'), fc.constantFrom('~/kh', 'none', '/tmp/a /tmp/b', '%d/kh_%h')),
  fc.tuple(fc.constant('Ciphers'), algos),
  fc.tuple(fc.constant('HostKeyAlgorithms'), hostKeyAlgos),
  fc.tuple(fc.constant('StrictHostKeyChecking'), fc.oneof(bool, fc.constantFrom('accept-new', 'off'))),
  fc.tuple(fc.constant('ConnectTimeout'), time),
  fc.tuple(fc.constant('ServerAliveInterval'), time),
  fc.tuple(fc.constant('ServerAliveCountMax'), num),
  fc.tuple(fc.constant('ConnectionAttempts'), num),
  fc.tuple(fc.constant('Compression'), bool),
  fc.tuple(fc.constant('ForwardAgent'), bool),
  fc.tuple(fc.constant('BatchMode'), bool),
  fc.tuple(fc.constant('PubkeyAuthentication'), bool),
  fc.tuple(fc.constant('PasswordAuthentication'), bool),
  fc.tuple(fc.constant('RequestTTY'), fc.oneof(bool, fc.constantFrom('force', 'auto'))),
  fc.tuple(fc.constant('LogLevel'), fc.constantFrom('QUIET', 'error', 'INFO', 'VERBOSE', 'loud')),
  fc.tuple(fc.constant('ControlPersist'), time),
  fc.tuple(fc.constant('SendEnv'), fc.constantFrom('LANG LC_*', '-LC_ALL', 'FOO', '')),
  fc.tuple(fc.constant('SetEnv'), fc.constantFrom('A=1', 'B="x y"', 'C', 'D=1 E=2')),
  fc.tuple(fc.constant('ProxyJump'), fc.constantFrom('gw', 'none', 'u@gw:2222,db1', 'ssh://gw:22', '-bad')),
  fc.tuple(fc.constant('RemoteCommand'), fc.constantFrom('uptime', 'echo %h %r', 'none')),
  fc.tuple(fc.constant('AddKeysToAgent'), fc.oneof(bool, fc.constantFrom('confirm', '1h'))),
  fc.tuple(fc.constant('EscapeChar'), fc.constantFrom('~', 'none', '^A', '#', 'xx')),
  fc.tuple(fc.constant('NumberOfPasswordPrompts'), num),
  fc.tuple(
    fc.constant('PreferredAuthentications'),
    fc.constantFrom('publickey', 'password,publickey', 'bogus'),
  ),
  fc.tuple(fc.constant('AddressFamily'), fc.constantFrom('any', 'inet', 'inet6', 'ipx')),
  fc.tuple(fc.constant('IdentitiesOnly'), bool),
  fc.tuple(fc.constant('HashKnownHosts'), bool),
  fc.tuple(fc.constant('VisualHostKey'), bool),
  fc.tuple(fc.constant('CheckHostIP'), bool),
  fc.tuple(fc.constant('KbdInteractiveAuthentication'), bool),
);

const spelled = fc.tuple(
  keywordLine,
  fc.constantFrom('lower', 'as-is', 'upper'),
  fc.constantFrom(' ', '=', ' = ', '\t', '= '),
  fc.boolean(),
);
const line = spelled.map(([[k, v], casing, sep, quote]) => {
  const key = casing === 'lower' ? k.toLowerCase() : casing === 'upper' ? k.toUpperCase() : k;
  const value = quote && !v.includes('"') ? `"${v}"` : v;
  return `${key}${sep}${value}`;
});

const matchCriteria = fc.oneof(
  fc.constant('all'),
  patternList.map((p) => `host ${p.replaceAll(' ', ',')}`),
  patternList.map((p) => `originalhost ${p.replaceAll(' ', ',')}`),
  fc.constantFrom(
    'user root',
    'user !root',
    'localuser *',
    '!host alpha',
    'host alpha user backup',
    'final all',
  ),
);
const block = fc.oneof(
  fc
    .tuple(patternList, fc.array(line, { maxLength: 4 }))
    .map(([p, ls]) => [`Host ${p}`, ...ls.map((l) => `  ${l}`)]),
  fc
    .tuple(matchCriteria, fc.array(line, { maxLength: 3 }))
    .map(([m, ls]) => [`Match ${m}`, ...ls.map((l) => `  ${l}`)]),
);
const configFile = fc
  .tuple(fc.array(line, { maxLength: 3 }), fc.array(block, { maxLength: 4 }), fc.boolean(), fc.boolean())
  .map(
    ([top, blocks, include, comment]) =>
      [
        ...(comment ? ['# generated'] : []),
        ...top,
        ...(include ? ['Include @DIR@/extra'] : []),
        ...blocks.flat(),
      ].join('\n') + '\n',
  );

// -p values are valid here: ssh applies -o lines inside its getopt loop, so a bad -o before a bad
// -p fails on the -o, while sshmux checks flags first (docs/config.md, "Differences from OpenSSH").
const optionArg = fc.oneof(
  fc.tuple(fc.constant('-p'), fc.integer({ min: 1, max: 65535 })).map(([f, v]) => [f, String(v)]),
  fc.tuple(fc.constant('-l'), word).map(([f, v]) => [f, v]),
  line.map((l) => ['-o', l.replace(/^(\S+?)\s*(?:=\s*|\s+)/, '$1=')]),
  fc.constantFrom(['-4'], ['-6'], ['-C'], ['-A'], ['-a'], ['-T'], ['-t'], ['-q'], ['-J', 'gw']),
);
const destination = fc.oneof(
  name,
  fc.tuple(fc.constantFrom('root', 'u'), name).map(([u, h]) => `${u}@${h}`),
  fc.tuple(name, fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `ssh://u@${h}:${p}`),
);

const diffCase: fc.Arbitrary<DiffCase> = fc
  .tuple(configFile, fc.array(block, { maxLength: 2 }), fc.array(optionArg, { maxLength: 3 }), destination)
  .map(([config, extra, opts, dest]) => ({
    name: 'generated',
    files: { config, extra: `${extra.flat().join('\n')}\n` },
    argv: ['-G', ...opts.flat(), dest],
  }));

(onWindows ? describePosix('OpenSSH ssh -G') : describe.runIf(live))(
  'ssh -G differential fuzzing against /usr/bin/ssh',
  () => {
    it(`agrees with OpenSSH on ${RUNS} generated configurations and command lines`, async () => {
      await fc.assert(
        fc.asyncProperty(diffCase, async (c) => {
          const s = stage(c);
          try {
            const openssh = runOpenSsh(s);
            const sshmux = await runSshmux(s);
            expect({ status: sshmux.status, stderr: sshmux.stderr, stdout: sshmux.stdout }).toEqual({
              status: openssh.status,
              stderr: openssh.stderr.replaceAll(s.dir, '@DIR@').replaceAll('@DIR@', s.dir),
              stdout: openssh.stdout,
            });
          } finally {
            s.cleanup();
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: false },
      );
    }, 600_000);
  },
);
