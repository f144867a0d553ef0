import { createRequire } from 'node:module';
import type { ClientChannel } from 'ssh2';

const CHANNEL_REQUEST = 98;
const BREAK = Buffer.from('break');

interface PacketWriter {
  allocStart: number;
  alloc(length: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

interface BreakInternals {
  outgoing?: { state: string; id: number };
  _client?: { _protocol?: { _packetRW?: { write?: PacketWriter } } };
}

type SendPacket = (protocol: unknown, packet: Buffer) => void;

let sendPacket: SendPacket | undefined;

/**
 * Send RFC 4335's "break" channel request (ssh's `~B`: want-reply false, the length in ms).
 * ssh2's client has no method for it, so the request is written the way ssh2 writes its own
 * channel requests (window-change, signal): through its packet writer, which encrypts it and
 * queues it during a key exchange. False when the channel is not open or ssh2 changed shape.
 */
export function sendBreak(channel: ClientChannel, lengthMs: number): boolean {
  const c = channel as unknown as BreakInternals;
  const state = c.outgoing?.state;
  const protocol = c._client?._protocol;
  const writer = protocol?._packetRW?.write;
  if ((state !== 'open' && state !== 'eof') || !writer || typeof writer.alloc !== 'function') return false;
  try {
    sendPacket ??= (
      createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as { sendPacket: SendPacket }
    ).sendPacket;
  } catch {
    return false;
  }
  // byte CHANNEL_REQUEST, uint32 recipient, string "break", boolean want-reply (0), uint32 ms.
  const start = writer.allocStart;
  const packet = writer.alloc(1 + 4 + 4 + BREAK.length + 1 + 4);
  packet[start] = CHANNEL_REQUEST;
  packet.writeUInt32BE(c.outgoing!.id, start + 1);
  packet.writeUInt32BE(BREAK.length, start + 5);
  BREAK.copy(packet, start + 9);
  packet[start + 9 + BREAK.length] = 0;
  packet.writeUInt32BE(lengthMs >>> 0, start + 10 + BREAK.length);
  sendPacket(protocol, writer.finalize(packet));
  return true;
}
