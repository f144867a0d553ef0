import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel, ExecOptions } from 'ssh2';
import { ChannelError } from '../errors.js';

/** The part of ssh2's (private) protocol object a subsystem request needs. */
interface Protocol {
  exec(channel: number, command: string, wantReply: boolean): void;
  subsystem(channel: number, name: string, wantReply: boolean): void;
}

/** Exec names standing in for a subsystem request, per protocol object. */
const pending = new WeakMap<Protocol, Map<string, string>>();

function protocolOf(client: Client): Protocol | undefined {
  const proto = (client as unknown as { _protocol?: Protocol })._protocol;
  return proto && typeof proto.exec === 'function' && typeof proto.subsystem === 'function'
    ? proto
    : undefined;
}

/**
 * The requests ssh sends on a subsystem's session channel (clientloop.c client_session2_setup):
 * pty-req when asked, env, then `subsystem` (ssh2 puts env before pty-req, which sshd does not
 * mind: both only set up the session). ssh2's `subsys()` sends only the last, so the
 * session is opened through ssh2's exec path (which sends env and pty as ssh does) under a
 * random stand-in name, and its final `exec` request goes out as `subsystem` instead.
 * The channel then behaves as an exec channel (window changes reach a pty, as with ssh).
 */
export function requestSubsystem(
  client: Client,
  name: string,
  options: ExecOptions,
  cb: (err: Error | undefined, channel: ClientChannel) => void,
): void {
  const proto = protocolOf(client);
  if (proto === undefined || (options.env === undefined && options.pty === undefined)) {
    // Nothing to send first (or an ssh2 whose internals differ): ssh2's own request is exact.
    client.subsys(name, cb);
    return;
  }
  let names = pending.get(proto);
  if (names === undefined) {
    const map = new Map<string, string>();
    names = map;
    pending.set(proto, map);
    const exec = proto.exec.bind(proto);
    proto.exec = (channel, command, wantReply) => {
      const subsystem = map.get(command);
      if (subsystem === undefined) {
        exec(channel, command, wantReply);
        return;
      }
      map.delete(command);
      proto.subsystem(channel, subsystem, wantReply);
    };
  }
  const standIn = `\0sshmux-subsystem-${randomBytes(16).toString('hex')}`;
  names.set(standIn, name);
  client.exec(standIn, options, (err, channel) => {
    names.delete(standIn);
    cb(
      err && /^Unable to exec$/.test(err.message) ? new Error(`Unable to start subsystem: ${name}`) : err,
      channel,
    );
  });
}

/** The server said no to the subsystem (sshd: no such Subsystem configured). */
export function subsystemRefused(err: Error, name: string, destination: string): Error {
  if (err.message !== `Unable to start subsystem: ${name}`) return err;
  return new ChannelError(`the server refused the subsystem ${JSON.stringify(name)}`, {
    destination,
    code: 'SSHMUX_ERR_SUBSYSTEM',
    cause: err,
  });
}
