import type { Readable } from 'node:stream';
import { asSshLogLines } from '../config/ssh-error.js';
import { ConfigError, isSshmuxError } from '../errors.js';
import type { ForwardChannel } from '../forward/relay.js';
import type { ChannelTarget } from '../pool/channel-target.js';
import type { RunningSession, SessionStdio } from './ssh-direct.js';
import { FORWARD_FAILED } from './ssh-forwarding.js';

/** ssh.c's -W: the channel ssh opens first, so always channel 0 in its messages. */
const STDIO_CHANNEL = 0;

/**
 * `-W host:port` (or `-W /socket`): stdin to the channel, the channel to stdout, no session;
 * done, with status 0, when the channel closes. A refused open prints ssh's two lines
 * ("channel 0: open failed: …", "stdio forwarding failed") and ends the run with 255.
 */
export async function startStdioForward(
  target: ChannelTarget,
  open: (target: ChannelTarget) => Promise<ForwardChannel>,
  io: SessionStdio,
  quiet: boolean,
): Promise<RunningSession> {
  let fwd: ForwardChannel;
  try {
    fwd = await open(target);
  } catch (err) {
    const worded = isSshmuxError(err) && err.code === 'SSHMUX_ERR_OPEN_FAILED';
    if (!isSshmuxError(err) || !(worded || err.kind === 'channel')) throw err;
    if (!quiet) {
      io.stderr.write(
        asSshLogLines(`channel ${STDIO_CHANNEL}: ${worded ? '' : 'open failed: '}${err.message}`),
      );
      io.stderr.write(asSshLogLines('stdio forwarding failed'));
    }
    throw new ConfigError('stdio forwarding failed', { code: FORWARD_FAILED, cause: err });
  }
  const stdin: Readable | null = io.stdin;
  if (stdin) stdin.pipe(fwd.channel);
  else fwd.channel.end();
  fwd.channel.pipe(io.stdout as NodeJS.WritableStream, { end: false });
  const outputDone = new Promise<void>((resolve) => {
    fwd.channel.once('end', resolve);
    fwd.channel.once('close', resolve);
  });
  const exited = fwd.closed.then(async () => {
    await outputDone;
    return { code: 0, signal: null };
  });
  return {
    exited,
    resize: () => {},
    close: async () => {
      stdin?.unpipe(fwd.channel);
      fwd.close();
    },
  };
}
