import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HostConfig } from '../config/host-config.js';
import { ConfigError } from '../errors.js';
import { type ChannelOrigin, type ChannelTarget, channelTarget } from '../pool/channel-target.js';
import { CreditSink, CreditSource } from './flow.js';
import type { FramedSocket } from './framed-socket.js';
import { FrameType, type OpenMessage } from './protocol.js';

/** What the daemon's pool offers for forwarding channels (SshPool.openChannel). */
export interface ChannelRunner {
  openChannel(
    dest: HostConfig,
    target: ChannelTarget,
    options?: { origin?: ChannelOrigin },
  ): Promise<{ channel: Duplex; closed: Promise<void>; close(): void }>;
}

function originOf(raw: unknown): ChannelOrigin | undefined {
  const o = raw as Record<string, unknown> | undefined;
  return typeof o?.address === 'string' && Number.isInteger(o.port)
    ? { address: o.address, port: o.port as number }
    : undefined;
}

/**
 * The daemon's side of one forwarded connection (OPEN `kind: 'direct'`): open the channel on
 * the pool, then relay stream 0 to it and its bytes back on stream 1 with credit flow
 * control, EOF both ways. Resolves when the channel and the client connection are done; a
 * refused open is reported as an Error frame by the caller.
 */
export async function relayDaemonChannel(
  conn: FramedSocket,
  open: OpenMessage,
  host: HostConfig,
  runner: Partial<ChannelRunner>,
): Promise<void> {
  if (typeof runner.openChannel !== 'function') {
    throw new ConfigError('this sshmux daemon cannot open forwarding channels');
  }
  const lease = await runner.openChannel(host, channelTarget(open.target), { origin: originOf(open.origin) });
  if (conn.closed) {
    lease.close();
    return;
  }
  const send = conn.send.bind(conn);
  const toTarget = new CreditSource(0, lease.channel, send);
  const fromTarget = new CreditSink(1, send);
  conn.onFrame((f) => {
    if (f.type === FrameType.Data && f.stream === 0) toTarget.write(f.data);
    else if (f.type === FrameType.Eof && f.stream === 0) lease.channel.end();
    else if (f.type === FrameType.Window && f.stream === 1) fromTarget.grant(f.credit);
  });
  conn.onClose(() => {
    // The client went away: the channel goes too (ssh closes a forward whose socket closed).
    lease.close();
    fromTarget.destroy();
  });
  conn.send({ type: FrameType.Opened, body: {} });
  await pipeline(lease.channel, fromTarget).catch(() => {});
  await lease.closed;
  if (!conn.closed) conn.end();
}
