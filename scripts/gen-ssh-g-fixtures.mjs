#!/usr/bin/env node
// Regenerate fixtures/ssh_config/*/expected/ from the real `ssh -G` (never edit those by hand).
// Usage: node scripts/gen-ssh-g-fixtures.mjs [fixture-name…]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  FIXTURES,
  listFixtures,
  localEnvironment,
  normalize,
  readCases,
  runSsh,
  sshVersion,
  stageFixture,
} from '../test/unit/config/ssh-g-harness.mjs';

const version = sshVersion();
if (!version) {
  process.stderr.write('gen-ssh-g-fixtures: /usr/bin/ssh not found\n');
  process.exit(2);
}
const local = localEnvironment();
const names = process.argv.length > 2 ? process.argv.slice(2) : listFixtures();
for (const name of names) {
  // Normalisation replaces the local user and host names as words: a fixture must not use them.
  const text =
    readFileSync(path.join(FIXTURES, name, 'config'), 'utf8') +
    readFileSync(path.join(FIXTURES, name, 'cases.json'), 'utf8');
  for (const w of [local.user, local.hostname]) {
    if (
      new RegExp(`(?<![A-Za-z0-9_])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_])`).test(text)
    ) {
      process.stderr.write(`gen-ssh-g-fixtures: ${name} mentions the local name \`${w}\`; rename it\n`);
      process.exit(2);
    }
  }
  const out = path.join(FIXTURES, name, 'expected');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const staged = stageFixture(name);
  try {
    for (const c of readCases(name)) {
      const r = runSsh(staged, c);
      const failed = r.status !== 0;
      if (failed !== Boolean(c.error)) {
        process.stderr.write(`gen-ssh-g-fixtures: ${name}/${c.id}: ssh exited ${r.status}: ${r.stderr}`);
        process.exit(1);
      }
      const file = failed ? `${c.id}.stderr` : `${c.id}.txt`;
      writeFileSync(path.join(out, file), normalize(failed ? r.stderr : r.stdout, staged, local));
    }
  } finally {
    staged.cleanup();
  }
  process.stdout.write(`${name}: ok\n`);
}
writeFileSync(path.join(FIXTURES, 'OPENSSH_VERSION'), `${version}\n`);
