import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { cliPassphraseSource } from '../../../src/security/passphrase.js';
import { type PromptIo, ttyHostKeyPrompt, ttyPassphrase } from '../../../src/security/tty-prompt.js';

/** A terminal that types the next answer each time a question is written, and ends input when out of answers. */
function fakeTty(...answers: string[]): { open: () => PromptIo; written: () => string } {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => {
    const s = d.toString();
    text += s;
    if (!/(\? |: )$/.test(s)) return;
    setImmediate(() => {
      const next = answers.shift();
      if (next === undefined) input.end();
      else input.write(next);
    });
  });
  return { open: () => ({ input, output }), written: () => text };
}

const q = { host: '[h]:2222', fingerprint: 'SHA256:abcdef', keyType: 'ED25519' };

describe('ttyHostKeyPrompt', () => {
  it('asks like OpenSSH and accepts yes', async () => {
    const t = fakeTty('yes\n');
    expect(await ttyHostKeyPrompt(t.open)(q)).toBe(true);
    expect(t.written()).toContain("The authenticity of host '[h]:2222' can't be established.");
    expect(t.written()).toContain('ED25519 key fingerprint is SHA256:abcdef.');
    expect(t.written()).toContain('Are you sure you want to continue connecting (yes/no/[fingerprint])? ');
  });

  it('re-asks on other input and accepts the pasted fingerprint', async () => {
    const t = fakeTty('maybe\n', 'SHA256:abcdef\n');
    expect(await ttyHostKeyPrompt(t.open)(q)).toBe(true);
    expect(t.written()).toContain("Please type 'yes', 'no' or the fingerprint: ");
  });

  it('refuses on no, and on a wrong fingerprint followed by end of input', async () => {
    expect(await ttyHostKeyPrompt(fakeTty('no\n').open)(q)).toBe(false);
    expect(await ttyHostKeyPrompt(fakeTty('SHA256:wrong\n').open)(q)).toBe(false);
  });
});

describe('passphrases', () => {
  it('reads a passphrase line and interrupts on Ctrl-C', async () => {
    expect(await ttyPassphrase('/k', fakeTty('s3cret\n').open)).toBe('s3cret');
    await expect(ttyPassphrase('/k', fakeTty('\u0003').open)).rejects.toMatchObject({ kind: 'aborted' });
  });

  it("Ctrl-C calls the terminal's interrupt once the terminal is restored (the real one raises SIGINT)", async () => {
    const t = fakeTty('\u0003');
    const events: string[] = [];
    const open = (): PromptIo => {
      const io = t.open();
      const input = io.input as PromptIo['input'];
      input.setRawMode = (raw: boolean) => events.push(raw ? 'raw' : 'restored');
      input.isTTY = true;
      return { ...io, interrupt: () => events.push('interrupt') };
    };
    await expect(ttyPassphrase('/k', open)).rejects.toMatchObject({ kind: 'aborted' });
    expect(events).toEqual(['raw', 'restored', 'interrupt']);
  });

  it('cliPassphraseSource: SSHMUX_PASSPHRASE first, the terminal otherwise, never under BatchMode', async () => {
    const host = plainHostConfig({ host: 'h' });
    expect(await cliPassphraseSource({ env: { SSHMUX_PASSPHRASE: 'p' } })('/k', host)).toBe('p');
    const t = fakeTty('typed\n');
    expect(await cliPassphraseSource({ env: {}, openTty: t.open })('/k', host)).toBe('typed');
    expect(t.written()).toContain("Enter passphrase for key '/k': ");
    const never = fakeTty('typed\n');
    expect(
      await cliPassphraseSource({ env: {}, openTty: never.open })('/k', { ...host, batchMode: true }),
    ).toBe(undefined);
    expect(never.written()).toBe('');
    const noTty = () => {
      throw new Error('no tty');
    };
    expect(await cliPassphraseSource({ env: {}, openTty: noTty })('/k', host)).toBe(undefined);
  });
});
