import type { Readable } from 'node:stream';
import { RemoteError } from '../errors.js';

/** SFTP v3 wire encoding (draft-ietf-secsh-filexfer-02): packets are length-prefixed, strings are byte strings. */

export enum Packet {
  Init = 1,
  Version = 2,
  Open = 3,
  Close = 4,
  Read = 5,
  Write = 6,
  Lstat = 7,
  Fstat = 8,
  Setstat = 9,
  Fsetstat = 10,
  Opendir = 11,
  Readdir = 12,
  Remove = 13,
  Mkdir = 14,
  Rmdir = 15,
  Realpath = 16,
  Stat = 17,
  Rename = 18,
  Readlink = 19,
  Symlink = 20,
  Status = 101,
  Handle = 102,
  Data = 103,
  Name = 104,
  Attrs = 105,
  Extended = 200,
  ExtendedReply = 201,
}

/** Builds one packet: type, then fields, framed with its length by `finish`. */
export class PacketWriter {
  #parts: Buffer[] = [];
  #length = 0;

  constructor(type: number, id?: number) {
    this.byte(type);
    if (id !== undefined) this.uint32(id);
  }

  /** Append one byte. */
  byte(v: number): this {
    return this.#push(Buffer.from([v]));
  }

  /** Append a big-endian uint32. */
  uint32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v >>> 0);
    return this.#push(b);
  }

  /** Append a big-endian uint64. */
  uint64(v: number | bigint): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt(v));
    return this.#push(b);
  }

  /** Append an SSH string (uint32 length, then the bytes; a string as UTF-8). */
  string(v: Buffer | string): this {
    const data = typeof v === 'string' ? Buffer.from(v) : v;
    this.uint32(data.length);
    return this.#push(data);
  }

  /** Append bytes as they are. */
  raw(b: Buffer): this {
    return this.#push(b);
  }

  /** The whole packet, its length prefix filled in. */
  finish(): Buffer {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(this.#length);
    return Buffer.concat([head, ...this.#parts], this.#length + 4);
  }

  #push(b: Buffer): this {
    this.#parts.push(b);
    this.#length += b.length;
    return this;
  }
}

/** Reads the fields of one packet body; a short packet throws (the server broke the protocol). */
export class PacketReader {
  #offset = 0;
  /** The packet body being read. */
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.buf.length - this.#offset;
  }

  /** Read one byte. */
  byte(): number {
    this.#need(1);
    return this.buf[this.#offset++]!;
  }

  /** Read a big-endian uint32. */
  uint32(): number {
    this.#need(4);
    const v = this.buf.readUInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }

  /** Read a big-endian uint64. */
  uint64(): bigint {
    this.#need(8);
    const v = this.buf.readBigUInt64BE(this.#offset);
    this.#offset += 8;
    return v;
  }

  /** Read an SSH string (uint32 length, then the bytes). */
  string(): Buffer {
    const n = this.uint32();
    this.#need(n);
    const v = this.buf.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return v;
  }

  /** Skip `n` bytes (fields already read from another copy of the packet). */
  skip(n: number): this {
    this.#need(n);
    this.#offset += n;
    return this;
  }

  #need(n: number): void {
    if (this.#offset + n > this.buf.length) throw new RangeError('truncated SFTP packet');
  }
}

/** sftp-common.h SFTP_MAX_MSG_LENGTH. */
export const MAX_MESSAGE = 256 * 1024;

/**
 * Splits a byte stream into SFTP packet bodies, fed chunk by chunk (`push`) and handing each
 * complete body to `onPacket` synchronously, as the pieces of the stream it lies in (one piece
 * when it lies within one chunk). Nothing is copied: a 255 KiB READ answer arrives as eight
 * 32 KiB SSH packets, and a download writes those pieces with one `writev` instead of joining
 * them into a new Buffer (each new Buffer is external memory, which drives V8's major GCs).
 */
export class PacketSplitter {
  readonly #onPacket: (pieces: Buffer[]) => void;
  #buf: Buffer = Buffer.alloc(0);
  /** Pieces of an incomplete packet (its length prefix stripped) and how many bytes they lack. */
  #pending: Buffer[] = [];
  #lacking = 0;

  constructor(onPacket: (pieces: Buffer[]) => void) {
    this.#onPacket = onPacket;
  }

  /** Feed the next chunk of the stream; throws RemoteError on a packet longer than SFTP allows. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.#lacking > 0) {
      if (chunk.length < this.#lacking) {
        this.#pending.push(chunk);
        this.#lacking -= chunk.length;
        return;
      }
      const pieces = this.#pending;
      pieces.push(chunk.subarray(0, this.#lacking));
      buf = chunk.subarray(this.#lacking);
      this.#pending = [];
      this.#lacking = 0;
      this.#onPacket(pieces);
    } else if (this.#buf.length > 0) {
      buf = Buffer.concat([this.#buf, chunk]);
    }
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (n > MAX_MESSAGE + 1024) throw new RemoteError(`SFTP packet of ${n} bytes is too long`);
      if (buf.length < 4 + n) {
        if (buf.length > 4) this.#pending.push(buf.subarray(4));
        this.#lacking = 4 + n - buf.length;
        buf = Buffer.alloc(0);
        break;
      }
      const body = buf.subarray(4, 4 + n);
      buf = buf.subarray(4 + n);
      this.#onPacket([body]);
    }
    this.#buf = buf;
  }
}

/** One Buffer of a packet's pieces (a copy only when there are several). */
export function joined(pieces: Buffer[]): Buffer {
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/** Split a byte stream into SFTP packet bodies (an async-iterator form of `PacketSplitter`). */
export async function* packetReader(input: Readable): AsyncGenerator<Buffer> {
  const ready: Buffer[] = [];
  const splitter = new PacketSplitter((pieces) => ready.push(joined(pieces)));
  for await (const chunk of input) {
    splitter.push(chunk as Buffer);
    yield* ready.splice(0);
  }
}
