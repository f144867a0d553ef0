import type { ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { NetworkError } from '../../../src/errors.js';
import {
  ChannelProcess,
  type ChannelProcessOptions,
  CONNECTION_LOST,
} from '../../../src/pool/remote-process.js';
import { FakeChannel } from './fake-connection.js';

function processOn(
  channel: FakeChannel,
  connection = { isClosed: false, closeError: undefined },
  job?: ChannelProcessOptions['job'],
) {
  let released = 0;
  const proc = new ChannelProcess(channel as unknown as ClientChannel, {
    command: 'cmd',
    destination: 'u@h:22',
    connection,
    onClose: () => {
      released++;
    },
    job,
  });
  return { proc, released: () => released };
}

describe('ChannelProcess', () => {
  it('keeps an exit status that arrived before anyone listened (regression: fast commands lost their exit)', async () => {
    const ch = new FakeChannel('true', () => {});
    // ssh2 emitted 'exit' in the same packet batch as the open confirmation: nobody heard it.
    ch.emit('exit', 0);
    const { proc, released } = processOn(ch);
    // ...but ssh2 repeats it on 'close'.
    ch.closeWithStatus(0);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(released()).toBe(1);
  });

  it('a tracked job the server will not signal is ended from a second channel after 500 ms', async () => {
    const ch = new FakeChannel('sleep 1000', () => {});
    // A server that ignores signal requests (OpenSSH for root logins) holds the channel open.
    ch.close = () => {};
    const opened: string[] = [];
    const { proc } = processOn(ch, undefined, {
      id: '0123456789abcdef',
      open: async (command) => {
        opened.push(command);
        const killer = new FakeChannel(command, () => {});
        setImmediate(() => {
          ch.finish(null, 'SIGTERM');
          killer.finish(0);
        });
        return killer as unknown as ClientChannel;
      },
    });
    const started = Date.now();
    proc.kill();
    expect(await proc.exited).toEqual({ code: null, signal: 'TERM' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toContain('0123456789abcdef');
    expect(opened[0]).toMatch(/ TERM'?$/);
  });

  it('a tracked job that ends on the signal opens no second channel', async () => {
    const ch = new FakeChannel('sleep 1000', () => {});
    let opened = 0;
    const { proc } = processOn(ch, undefined, {
      id: '0123456789abcdef',
      open: async () => {
        opened++;
        throw new Error('not expected');
      },
    });
    proc.kill('INT');
    expect(await proc.exited).toEqual({ code: null, signal: 'INT' });
    await new Promise((r) => setTimeout(r, 700));
    expect(opened).toBe(0);
  });

  it('reports signals without the SIG prefix', async () => {
    const ch = new FakeChannel('x', () => {});
    const { proc } = processOn(ch);
    ch.finish(null, 'SIGTERM');
    expect(await proc.exited).toEqual({ code: null, signal: 'TERM' });
  });

  it('kill() signals even after stdin was ended, where ssh2 channel.signal() is a no-op', async () => {
    const ch = new FakeChannel('sleep 987', () => {});
    const { proc } = processOn(ch);
    proc.stdin.end();
    (ch as unknown as { outgoing: { state: string } }).outgoing.state = 'eof';
    proc.kill('INT');
    expect(ch.signals).toEqual(['INT']);
    expect(await proc.exited).toEqual({ code: null, signal: 'INT' });
  });

  it('a channel closed under a dead connection rejects with kind network and still frees the slot', async () => {
    const ch = new FakeChannel('x', () => {});
    const connection = { isClosed: false, closeError: undefined as NetworkError | undefined };
    const { proc, released } = processOn(ch, connection as never);
    connection.isClosed = true;
    connection.closeError = new NetworkError('Server not responding');
    ch.lose();
    await expect(proc.exited).rejects.toMatchObject({
      kind: 'network',
      message: expect.stringContaining('cmd'),
    });
    expect(released()).toBe(1);
  });

  it('an exit status followed by a dead connection rejects as connection lost: output may still have been on its way', async () => {
    // sshd can send exit-status before the last CHANNEL_DATA (issue 18: exit 0, empty stdout).
    const ch = new FakeChannel('x', () => {});
    const connection = { isClosed: false, closeError: undefined as NetworkError | undefined };
    const { proc } = processOn(ch, connection as never);
    ch.exitOnly(0);
    connection.isClosed = true;
    ch.lose();
    await expect(proc.exited).rejects.toMatchObject({ kind: 'network', code: CONNECTION_LOST });
  });

  it("the server's CLOSE that came before the connection died keeps the exit status", async () => {
    const ch = new FakeChannel('x', () => {});
    const connection = { isClosed: false, closeError: undefined as NetworkError | undefined };
    const { proc } = processOn(ch, connection as never);
    ch.finish(3, undefined, 'all of it');
    // The connection dies after ssh2 took the CLOSE, before the channel's 'close' event.
    connection.isClosed = true;
    expect(await proc.exited).toEqual({ code: 3, signal: null });
  });
});
