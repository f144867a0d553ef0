import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { LocalError } from '../../../src/errors.js';
import { askpassAllowed, readPassphrase } from '../../../src/security/read-passphrase.js';
import type { PromptIo } from '../../../src/security/tty-prompt.js';

function tty(answer: string): { open: () => PromptIo; written: () => string } {
  let out = '';
  const output = new PassThrough();
  output.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return {
    open: () => {
      const input = new PassThrough();
      setImmediate(() => input.write(answer));
      return { input, output };
    },
    written: () => out,
  };
}

const noTty = (): PromptIo => {
  throw new LocalError('no tty');
};

describe('readPassphrase (readpass.c rules)', () => {
  it('asks on the terminal when there is one, starting the line with a carriage return', async () => {
    const t = tty('pw\n');
    const askpass = vi.fn();
    expect(await readPassphrase('p: ', false, { env: {}, openTty: t.open, askpass })).toBe('pw');
    expect(t.written()).toBe('\rp: \n');
    expect(askpass).not.toHaveBeenCalled();
  });

  it('without a terminal: SSH_ASKPASS when DISPLAY is set, else an empty answer', async () => {
    const askpass = vi.fn(async () => 'from-askpass');
    const env = { DISPLAY: ':0', SSH_ASKPASS: '/bin/ap' };
    expect(await readPassphrase('p: ', false, { env, openTty: noTty, askpass })).toBe('from-askpass');
    expect(askpass).toHaveBeenCalledWith('/bin/ap', 'p: ');
    expect(await readPassphrase('p: ', false, { env: {}, openTty: noTty, askpass })).toBe('');
    expect(askpass).toHaveBeenCalledTimes(1);
  });

  it('SSH_ASKPASS_REQUIRE: force uses askpass even with a terminal and no DISPLAY; never refuses it', async () => {
    const askpass = vi.fn(async () => 'a');
    const t = tty('typed\n');
    const force = { SSH_ASKPASS_REQUIRE: 'force' };
    expect(await readPassphrase('p: ', false, { env: force, openTty: t.open, askpass })).toBe('a');
    expect(askpass).toHaveBeenCalledWith('/usr/bin/ssh-askpass', 'p: ');
    const never = { SSH_ASKPASS_REQUIRE: 'never', DISPLAY: ':0' };
    expect(await readPassphrase('p: ', false, { env: never, openTty: noTty, askpass })).toBe('');
    expect(askpass).toHaveBeenCalledTimes(1);
  });

  it('SSH_ASKPASS_REQUIRE=prefer uses askpass over the terminal only with DISPLAY', async () => {
    const askpass = vi.fn(async () => 'a');
    const env = { SSH_ASKPASS_REQUIRE: 'prefer', DISPLAY: ':1' };
    expect(await readPassphrase('p: ', false, { env, openTty: tty('t\n').open, askpass })).toBe('a');
    const noDisplay = { SSH_ASKPASS_REQUIRE: 'prefer' };
    expect(await readPassphrase('p: ', false, { env: noDisplay, openTty: tty('t\n').open, askpass })).toBe(
      't',
    );
  });

  it('a failing askpass gives an empty answer', async () => {
    const env = { SSH_ASKPASS_REQUIRE: 'force' };
    expect(await readPassphrase('p: ', false, { env, askpass: async () => undefined })).toBe('');
  });

  it('askpassAllowed: force, or DISPLAY unless never', () => {
    expect(askpassAllowed({})).toBe(false);
    expect(askpassAllowed({ SSH_ASKPASS_REQUIRE: 'force' })).toBe(true);
    expect(askpassAllowed({ DISPLAY: ':0' })).toBe(true);
    expect(askpassAllowed({ DISPLAY: ':0', SSH_ASKPASS_REQUIRE: 'never' })).toBe(false);
    expect(askpassAllowed({ DISPLAY: '' })).toBe(false);
  });
});
