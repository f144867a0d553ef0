import { EventEmitter } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RestoreHooks } from '../../../src/session/raw-terminal.js';
import { type TerminalExit, TerminalSession } from '../../../src/session/terminal-session.js';

class FakeSize extends EventEmitter {
  isTTY = true;
  rows = 24;
  columns = 80;
}

function setup(
  options: { pty?: boolean; escapeChar?: number | null; multiplexed?: boolean; canSuspend?: boolean } = {},
) {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[] });
  (stdin as unknown as { setRawMode(m: boolean): void }).setRawMode = (m) => stdin.modes.push(m);
  let stderr = '';
  const err = new PassThrough();
  err.on('data', (d: Buffer) => {
    stderr += d.toString('latin1');
  });
  const exits: TerminalExit[] = [];
  const sizes: { rows: number; cols: number }[] = [];
  let suspended = 0;
  let rekeys = 0;
  const breaks: number[] = [];
  const hooks: RestoreHooks = {
    onExit: () => () => {},
    onDeathBySignal: () => () => {},
    canSuspend: options.canSuspend ?? true,
    suspendSelf: () => {
      suspended++;
    },
  };
  const size = new FakeSize();
  const session = new TerminalSession({
    input: stdin as unknown as Readable & { setRawMode(m: boolean): unknown },
    size,
    stderr: err,
    pty: options.pty ?? true,
    escapeChar: options.escapeChar === undefined ? 0x7e : options.escapeChar,
    multiplexed: () => options.multiplexed ?? false,
    onExit: (why) => exits.push(why),
    hooks,
  });
  const sent: Buffer[] = [];
  session.input.on('data', (d: Buffer) => sent.push(d));
  session.attach({ resize: (s) => sizes.push(s), rekey: () => rekeys++, sendBreak: (ms) => breaks.push(ms) });
  const type = async (text: string): Promise<void> => {
    stdin.write(Buffer.from(text, 'latin1'));
    await new Promise((r) => setImmediate(r));
  };
  return {
    session,
    stdin,
    size,
    type,
    exits,
    sizes,
    sent: () => Buffer.concat(sent).toString('latin1'),
    stderr: () => stderr,
    suspended: () => suspended,
    rekeys: () => rekeys,
    breaks,
  };
}

describe('TerminalSession', () => {
  it('reads local input only once the session reads it (the connect may prompt on the terminal)', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {} });
    const session = new TerminalSession({
      input: stdin,
      size: undefined,
      stderr: new PassThrough(),
      pty: true,
      escapeChar: 0x7e,
      multiplexed: () => false,
      onExit: () => {},
    });
    stdin.write('typed during the connect');
    await new Promise((r) => setImmediate(r));
    expect(stdin.readableFlowing).toBeNull();
    expect(stdin.readableLength).toBeGreaterThan(0);
    const got: Buffer[] = [];
    session.input.on('data', (d: Buffer) => got.push(d));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(got).toString()).toBe('typed during the connect');
  });

  it('enters raw mode on attach and leaves it on dispose', () => {
    const s = setup();
    expect(s.stdin.modes).toEqual([true]);
    s.session.dispose();
    expect(s.stdin.modes).toEqual([true, false]);
  });

  it('passes typing through and ends the session on ~. (nothing echoed, as ssh 9.2)', async () => {
    const s = setup();
    await s.type('ls\r~.after');
    expect(s.sent()).toBe('ls\r');
    expect(s.exits).toEqual(['disconnect']);
    expect(s.stderr()).toBe('');
    await s.type('more');
    expect(s.sent()).toBe('ls\r');
  });

  it('~? prints the help with the escape character', async () => {
    const s = setup({ escapeChar: 0x25 });
    await s.type('%?');
    expect(s.stderr()).toMatch(/^%\?\r\nSupported escape sequences:\r\n %\. {3}- terminate connection/);
    expect(s.stderr()).toContain(' %%   - send the escape character by typing it twice\r\n');
    expect(s.sent()).toBe('');
  });

  it('~^Z suspends and sends the size again when continued', async () => {
    const s = setup();
    s.size.rows = 50;
    await s.type('~\x1a');
    expect(s.suspended()).toBe(1);
    expect(s.stderr()).toBe('~^Z [suspend ssh]\r\n');
    expect(s.sizes).toEqual([{ rows: 50, cols: 80 }]);
    expect(s.stdin.modes).toEqual([true, false, true]);
  });

  it('~^Z where there is no job control (Windows) says so and stays', async () => {
    const s = setup({ canSuspend: false });
    await s.type('~\x1a');
    expect(s.suspended()).toBe(0);
    expect(s.stderr()).toBe('~^Z is not available here: this system has no job control (SIGTSTP)\r\n');
    expect(s.stdin.modes).toEqual([true]);
  });

  it('~V and ~v are refused with what to do instead', async () => {
    const s = setup();
    await s.type('~V\r~v');
    expect(s.stderr()).toBe(
      '~V is not supported by sshmux (its LogLevel is fixed for the session); give -v or -q instead\r\n' +
        '~v is not supported by sshmux (its LogLevel is fixed for the session); give -v or -q instead\r\n',
    );
    expect(s.sent()).toBe('\r');
  });

  it('~V and ~v through the daemon say what ssh says to a multiplexed session', async () => {
    const s = setup({ multiplexed: true });
    await s.type('~V\r~v');
    expect(s.stderr()).toBe(
      '~V escape not available to multiplexed sessions\r\n~v escape not available to multiplexed sessions\r\n',
    );
    expect(s.sent()).toBe('\r');
  });

  it('~& leaves raw mode, sends an end-of-file character and ends the session with 0', async () => {
    const s = setup();
    await s.type('~&');
    expect(s.stderr()).toBe('~& [backgrounded]\n');
    expect(s.sent()).toBe('\x04');
    expect(s.exits).toEqual(['background']);
    expect(s.stdin.modes).toEqual([true, false]);
  });

  it('~# lists the session, ~C says the command line is disabled, ~B sends a 1000 ms BREAK', async () => {
    const s = setup();
    await s.type('~#\r~C\r~B');
    expect(s.stderr()).toBe(
      '~#\r\nThe following connections are open:\r\n  #0 client-session (t4 [session])\r\n' +
        'commandline disabled\r\n' +
        '~B\r\n',
    );
    expect(s.breaks).toEqual([1000]);
    expect(s.sent()).toBe('\r\r');
  });

  it('~R asks the session to rekey', async () => {
    const s = setup();
    await s.type('~R');
    expect(s.rekeys()).toBe(1);
    expect(s.stderr()).toBe('');
  });

  it('forwards window changes while attached', () => {
    const s = setup();
    s.size.rows = 40;
    s.size.columns = 120;
    s.size.emit('resize');
    expect(s.sizes).toEqual([{ rows: 40, cols: 120 }]);
    s.session.dispose();
    s.size.emit('resize');
    expect(s.sizes).toHaveLength(1);
  });

  it('without a pty: no raw mode, no escapes (ssh passes the escape character only with a tty)', async () => {
    const s = setup({ pty: false });
    expect(s.stdin.modes).toEqual([]);
    expect(s.session.input).toBe(s.stdin);
  });

  it('EscapeChar none: no escapes', () => {
    const s = setup({ escapeChar: null });
    expect(s.session.input).toBe(s.stdin);
    expect(s.stdin.modes).toEqual([true]);
  });

  it('through the daemon, ~? says ~. ends this session', async () => {
    const s = setup({ multiplexed: true });
    await s.type('~?');
    expect(s.stderr()).toContain(' ~.   - terminate session\r\n');
    expect(s.stderr()).not.toContain('terminate connection');
  });
});
