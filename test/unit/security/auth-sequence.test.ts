import { describe, expect, it } from 'vitest';
import { type AuthSettings, DEFAULT_AUTH_SETTINGS } from '../../../src/config/auth-options.js';
import { AuthSequence, type MethodRunner } from '../../../src/security/auth-sequence.js';

/** A method that can send `n` requests, named `name#1`, `name#2`, … */
function runner(name: string, n: number, log: string[]): MethodRunner<string> & { resets: number } {
  let sent = 0;
  const r = {
    resets: 0,
    attempt: async () => (sent < n ? `${name}#${++sent}` : undefined),
    reset: () => {
      sent = 0;
      r.resets++;
      log.push(`reset ${name}`);
    },
  };
  return r;
}

function sequence(settings: Partial<AuthSettings>, batchMode = false, counts = { pk: 2, pw: 3, kbd: 1 }) {
  const log: string[] = [];
  const runners = new Map([
    ['publickey', runner('publickey', counts.pk, log)],
    ['password', runner('password', counts.pw, log)],
    ['keyboard-interactive', runner('keyboard-interactive', counts.kbd, log)],
  ]);
  return { seq: new AuthSequence({ ...DEFAULT_AUTH_SETTINGS, ...settings }, batchMode, runners), log };
}

/** Every request until denied, with the server always answering `list`. */
async function all(seq: AuthSequence<string>, list: string[]): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const step = await seq.next(list, false);
    if ('denied' in step) return [...out, `denied (${step.denied})`];
    out.push(step.send);
  }
}

describe('AuthSequence (sshconnect2.c method selection)', () => {
  it('default order: each key, then keyboard-interactive, then the password prompts', async () => {
    const { seq } = sequence({});
    expect(await all(seq, ['publickey', 'password', 'keyboard-interactive'])).toEqual([
      'publickey#1',
      'publickey#2',
      'keyboard-interactive#1',
      'password#1',
      'password#2',
      'password#3',
      'denied (publickey,password,keyboard-interactive)',
    ]);
  });

  it('PreferredAuthentications orders and restricts; methods the server does not list are skipped', async () => {
    const { seq } = sequence({ preferred: ['password', 'publickey'] });
    expect(await all(seq, ['publickey', 'keyboard-interactive'])).toEqual([
      'publickey#1',
      'publickey#2',
      'denied (publickey,keyboard-interactive)',
    ]);
    const other = sequence({ preferred: ['password', 'publickey'] }).seq;
    expect((await all(other, ['publickey', 'password'])).slice(0, 4)).toEqual([
      'password#1',
      'password#2',
      'password#3',
      'publickey#1',
    ]);
  });

  it('PubkeyAuthentication and PasswordAuthentication no disable their methods', async () => {
    const { seq } = sequence({ pubkey: false, password: false, kbdInteractive: false });
    expect(await all(seq, ['publickey', 'password'])).toEqual(['denied (publickey,password)']);
  });

  it('BatchMode disables the interactive methods only', async () => {
    const { seq } = sequence({}, true);
    expect(await all(seq, ['publickey', 'password', 'keyboard-interactive'])).toEqual([
      'publickey#1',
      'publickey#2',
      'denied (publickey,password,keyboard-interactive)',
    ]);
  });

  it('methods sshmux lacks (gssapi-with-mic, hostbased) or does not know are passed over', async () => {
    const { seq } = sequence({ preferred: ['gssapi-with-mic', 'hostbased', 'frob', 'password'] }, false, {
      pk: 0,
      pw: 1,
      kbd: 0,
    });
    expect(await all(seq, ['gssapi-with-mic', 'hostbased', 'frob', 'password'])).toEqual([
      'password#1',
      'denied (gssapi-with-mic,hostbased,frob,password)',
    ]);
  });

  it('partial success: a new list starts the preference walk over and methods start afresh', async () => {
    const { seq, log } = sequence({});
    expect(await seq.next(['publickey'], false)).toEqual({ send: 'publickey#1' });
    // The key was accepted as the first of two factors: the server now wants a password.
    expect(await seq.next(['password'], true)).toEqual({ send: 'password#1' });
    expect(log).toContain('reset publickey');
    expect(await seq.next(['password'], false)).toEqual({ send: 'password#2' });
  });

  it('an empty list from the server means ssh tries its own preference list', async () => {
    const { seq } = sequence({ preferred: ['password'] }, false, { pk: 1, pw: 1, kbd: 0 });
    expect(await seq.next([], false)).toEqual({ send: 'password#1' });
  });
});
