import type { Readable, Writable } from 'node:stream';
import { NetworkError, RemoteError, SftpStatusError } from '../errors.js';
import { readAttrs, type SftpAttrs, writeAttrs } from './sftp-attrs.js';
import { joined, MAX_MESSAGE, Packet, PacketReader, PacketWriter } from './sftp-codec.js';
import { DATA_HEAD, dataPieces, FrameFeed } from './sftp-frames.js';
import { printablePath, statusText } from './sftp-status.js';

/** SSH_FXF_* open flags. */
export const OpenFlag = {
  /** SSH_FXF_READ: open for reading. */
  Read: 0x1,
  /** SSH_FXF_WRITE: open for writing. */
  Write: 0x2,
  /** SSH_FXF_APPEND: writes go to the end. */
  Append: 0x4,
  /** SSH_FXF_CREAT: create the file when missing. */
  Creat: 0x8,
  /** SSH_FXF_TRUNC: truncate an existing file. */
  Trunc: 0x10,
  /** SSH_FXF_EXCL: fail when the file exists (with Creat). */
  Excl: 0x20,
} as const;
/** SSH_FX_* status codes. */
export const Status = {
  /** SSH_FX_OK. */
  Ok: 0,
  /** SSH_FX_EOF: end of file or directory. */
  Eof: 1,
  /** SSH_FX_NO_SUCH_FILE. */
  NoSuchFile: 2,
  /** SSH_FX_PERMISSION_DENIED. */
  PermissionDenied: 3,
  /** SSH_FX_FAILURE: any other failure. */
  Failure: 4,
  /** SSH_FX_OP_UNSUPPORTED. */
  OpUnsupported: 8,
} as const;

/** sftp-client.c's defaults: 32 KiB requests (up to the server's limits, below 256 KiB), 64 in flight. */
const DEFAULT_BUFFER = 32768;
const DEFAULT_REQUESTS = 64;

/** A path as bytes (any name survives) or a string (sent as UTF-8). */
export type SftpPath = Buffer | string;

/** One entry of a directory listing (SSH_FXP_NAME). */
export interface SftpDirEntry {
  /** The entry's name, as bytes. */
  filename: Buffer;
  /** The server's `ls -l`-style line for it. */
  longname: Buffer;
  /** Its attributes. */
  attrs: SftpAttrs;
}

/** Options of `SftpClient.start`. */
export interface SftpClientOptions {
  /** Bytes per read/write request (scp/sftp -B); by default the server's limits, else 32768. */
  bufferLength?: number;
  /** Requests in flight per transfer (scp/sftp -R). @default 64 */
  requests?: number;
}

interface Reply {
  type: number;
  r: PacketReader;
  /** The data of an SSH_FXP_DATA answer to `readPieces`, as it arrived (`r` then holds only its head). */
  pieces?: Buffer[];
}

/**
 * An SFTP version 3 client over any pair of streams (the stdout and stdin of an `sftp`
 * subsystem). Paths and names are byte strings: names that are not UTF-8 survive a round trip.
 */
export class SftpClient {
  /** The extensions the server announced (name → version data). */
  readonly extensions: ReadonlyMap<string, string>;
  /** Bytes per READ and WRITE request. */
  readLength: number;
  /** Bytes per WRITE request. */
  writeLength: number;
  /** Requests kept in flight per transfer. */
  readonly requests: number;
  #output: Writable;
  #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; pieces?: boolean }>();
  #nextId = 1;
  #closed: Error | undefined;

  private constructor(output: Writable, extensions: Map<string, string>, options: SftpClientOptions) {
    this.#output = output;
    this.extensions = extensions;
    this.requests = options.requests ?? DEFAULT_REQUESTS;
    this.readLength = options.bufferLength ?? DEFAULT_BUFFER;
    this.writeLength = options.bufferLength ?? DEFAULT_BUFFER;
  }

  /** Send INIT, read VERSION and the extensions, and ask for limits@openssh.com when offered. */
  static async start(
    input: Readable,
    output: Writable,
    options: SftpClientOptions = {},
  ): Promise<SftpClient> {
    // A server that died shows as EPIPE here; the read side then ends and fails what is waiting.
    output.on('error', () => {});
    const frames = new FrameFeed(input);
    output.write(new PacketWriter(Packet.Init).uint32(3).finish());
    const first = await frames.first();
    if (first === undefined)
      throw new NetworkError('the SFTP server closed the connection before answering INIT');
    const r = new PacketReader(first);
    const type = r.byte();
    if (type !== Packet.Version)
      throw new RemoteError(`Invalid packet back from SSH2_FXP_INIT (type ${type})`);
    r.uint32();
    const extensions = new Map<string, string>();
    while (r.remaining > 0) extensions.set(r.string().toString('latin1'), r.string().toString('latin1'));
    const client = new SftpClient(output, extensions, options);
    frames.attach(
      (frame) => client.#dispatch(frame),
      (why) => client.#fail(why),
    );
    if (options.bufferLength === undefined && extensions.get('limits@openssh.com') === '1') {
      const limits = await client.limits();
      const bounded = (n: bigint) => Math.max(64, Math.min(Number(n) || MAX_MESSAGE, MAX_MESSAGE - 1024));
      client.#withLengths(bounded(limits.readLength), bounded(limits.writeLength));
    }
    return client;
  }

  #withLengths(read: number, write: number): void {
    this.readLength = read;
    this.writeLength = write;
  }

  /** Whether the server announced `extension` (e.g. `posix-rename@openssh.com`). */
  has(extension: string): boolean {
    return this.extensions.has(extension);
  }

  /** Stop: the server sees EOF and exits; requests still waiting fail. */
  end(): void {
    this.#output.end();
  }

  /** The canonical absolute path, as the server resolves it. */
  async realpath(path: SftpPath): Promise<Buffer> {
    return this.#name(path, await this.#call(Packet.Realpath, path, (w) => w.string(path)));
  }

  /** expand-path@openssh.com (`~` and `~user` expanded on the server), else realpath. */
  async expandPath(path: SftpPath): Promise<Buffer> {
    if (!this.has('expand-path@openssh.com')) return this.realpath(path);
    return this.#name(path, await this.#extended('expand-path@openssh.com', path, (w) => w.string(path)));
  }

  /** The attributes of `path`, following symbolic links. */
  async stat(path: SftpPath): Promise<SftpAttrs> {
    return this.#attrs(path, await this.#call(Packet.Stat, path, (w) => w.string(path)));
  }

  /** The attributes of `path` itself (a symbolic link is not followed). */
  async lstat(path: SftpPath): Promise<SftpAttrs> {
    return this.#attrs(path, await this.#call(Packet.Lstat, path, (w) => w.string(path)));
  }

  /** The attributes of an open handle (`path` names it in errors). */
  async fstat(handle: Buffer, path: SftpPath): Promise<SftpAttrs> {
    return this.#attrs(path, await this.#call(Packet.Fstat, path, (w) => w.string(handle)));
  }

  /** Set attributes (mode, owner, times, size) of `path`. */
  async setstat(path: SftpPath, attrs: SftpAttrs): Promise<void> {
    this.#ok(await this.#call(Packet.Setstat, path, (w) => writeAttrs(w.string(path), attrs)), path);
  }

  /** Set attributes of an open handle. */
  async fsetstat(handle: Buffer, path: SftpPath, attrs: SftpAttrs): Promise<void> {
    this.#ok(await this.#call(Packet.Fsetstat, path, (w) => writeAttrs(w.string(handle), attrs)), path);
  }

  /** Open a file with `OpenFlag` bits; resolves with its handle. */
  async open(path: SftpPath, flags: number, attrs: SftpAttrs = {}): Promise<Buffer> {
    return this.#handle(
      path,
      await this.#call(Packet.Open, path, (w) => writeAttrs(w.string(path).uint32(flags), attrs)),
    );
  }

  /** Open a directory for reading; resolves with its handle. */
  async opendir(path: SftpPath): Promise<Buffer> {
    return this.#handle(path, await this.#call(Packet.Opendir, path, (w) => w.string(path)));
  }

  /** Close a file or directory handle. */
  async close(handle: Buffer, path: SftpPath): Promise<void> {
    this.#ok(await this.#call(Packet.Close, path, (w) => w.string(handle)), path);
  }

  /** Up to `length` bytes at `offset`; null at end of file. */
  async read(handle: Buffer, path: SftpPath, offset: number, length: number): Promise<Buffer | null> {
    const reply = await this.#call(Packet.Read, path, (w) => w.string(handle).uint64(offset).uint32(length));
    if (reply.type === Packet.Data) return reply.r.string();
    const status = this.#status(reply, path);
    if (status === Status.Eof) return null;
    throw this.#statusError(reply.r, status, path);
  }

  /**
   * `read`, with the data as the pieces it arrived in (about 32 KiB each, the SSH channel's
   * packets) rather than joined into one Buffer: for `writev`, which spares a copy and an
   * allocation of every byte downloaded. Null at end of file.
   */
  async readPieces(handle: Buffer, path: SftpPath, offset: number, length: number): Promise<Buffer[] | null> {
    const reply = await this.#call(
      Packet.Read,
      path,
      (w) => w.string(handle).uint64(offset).uint32(length),
      true,
    );
    if (reply.type === Packet.Data) return reply.pieces ?? [reply.r.string()];
    const status = this.#status(reply, path);
    if (status === Status.Eof) return null;
    throw this.#statusError(reply.r, status, path);
  }

  /** Write `data` at `offset` of an open file. */
  async write(handle: Buffer, path: SftpPath, offset: number, data: Buffer): Promise<void> {
    this.#ok(await this.#call(Packet.Write, path, (w) => w.string(handle).uint64(offset).string(data)), path);
  }

  /** Every entry of a directory, `.` and `..` included, as the server lists them. */
  async readdir(path: SftpPath): Promise<SftpDirEntry[]> {
    const handle = await this.opendir(path);
    const entries: SftpDirEntry[] = [];
    try {
      for (;;) {
        const reply = await this.#call(Packet.Readdir, path, (w) => w.string(handle));
        if (reply.type !== Packet.Name) {
          const status = this.#status(reply, path);
          if (status === Status.Eof) break;
          throw this.#statusError(reply.r, status, path);
        }
        const count = reply.r.uint32();
        for (let i = 0; i < count; i++) {
          entries.push({ filename: reply.r.string(), longname: reply.r.string(), attrs: readAttrs(reply.r) });
        }
      }
    } finally {
      await this.close(handle, path).catch(() => {});
    }
    return entries;
  }

  /** Remove a file. */
  async remove(path: SftpPath): Promise<void> {
    this.#ok(await this.#call(Packet.Remove, path, (w) => w.string(path)), path);
  }

  /** Create a directory. */
  async mkdir(path: SftpPath, attrs: SftpAttrs = {}): Promise<void> {
    this.#ok(await this.#call(Packet.Mkdir, path, (w) => writeAttrs(w.string(path), attrs)), path);
  }

  /** Remove an empty directory. */
  async rmdir(path: SftpPath): Promise<void> {
    this.#ok(await this.#call(Packet.Rmdir, path, (w) => w.string(path)), path);
  }

  /** RENAME (fails when `to` exists), or with `replace` posix-rename@openssh.com (atomic replace). */
  async rename(from: SftpPath, to: SftpPath, replace = false): Promise<void> {
    const build = (w: PacketWriter) => w.string(from).string(to);
    const reply =
      replace && this.has('posix-rename@openssh.com')
        ? await this.#extended('posix-rename@openssh.com', from, build)
        : await this.#call(Packet.Rename, from, build);
    this.#ok(reply, from);
  }

  /** A symbolic link at `link` pointing to `target`. */
  async symlink(target: SftpPath, link: SftpPath): Promise<void> {
    // OpenSSH's server takes the two paths in the reverse order of the draft (PROTOCOL 4.1); so do its clients.
    this.#ok(await this.#call(Packet.Symlink, link, (w) => w.string(target).string(link)), link);
  }

  /** The target of a symbolic link, as bytes. */
  async readlink(path: SftpPath): Promise<Buffer> {
    return this.#name(path, await this.#call(Packet.Readlink, path, (w) => w.string(path)));
  }

  /** Create a hard link `link` to `target` (hardlink@openssh.com). */
  async hardlink(target: SftpPath, link: SftpPath): Promise<void> {
    this.#ok(await this.#extended('hardlink@openssh.com', link, (w) => w.string(target).string(link)), link);
  }

  /** Flush an open file to disk on the server (fsync@openssh.com). */
  async fsync(handle: Buffer, path: SftpPath): Promise<void> {
    this.#ok(await this.#extended('fsync@openssh.com', path, (w) => w.string(handle)), path);
  }

  /** An OpenSSH extension answered by a STATUS: resolves on OK, else the STATUS as an error. */
  async extendedStatus(name: string, path: SftpPath, build: (w: PacketWriter) => unknown): Promise<void> {
    const reply = await this.#extended(name, path, (w) => {
      build(w);
      return w;
    });
    this.#ok(reply, path);
  }

  /** An OpenSSH extension answered by SSH_FXP_EXTENDED_REPLY: its body, or the STATUS as an error. */
  async extendedReply(
    name: string,
    path: SftpPath,
    build: (w: PacketWriter) => unknown,
  ): Promise<PacketReader> {
    const reply = await this.#extended(name, path, (w) => {
      build(w);
      return w;
    });
    if (reply.type !== Packet.ExtendedReply)
      throw this.#statusError(reply.r, this.#status(reply, path), path);
    return reply.r;
  }

  /** The server's limits (limits@openssh.com). */
  async limits(): Promise<{
    /** Longest packet the server accepts. */
    packetLength: bigint;
    /** Longest READ it answers in full. */
    readLength: bigint;
    /** Longest WRITE it accepts. */
    writeLength: bigint;
    /** Handles it lets one client hold open (0: no limit). */
    openHandles: bigint;
  }> {
    const r = await this.extendedReply('limits@openssh.com', '', () => {});
    return {
      packetLength: r.uint64(),
      readLength: r.uint64(),
      writeLength: r.uint64(),
      openHandles: r.uint64(),
    };
  }

  #extended(
    name: string,
    path: SftpPath,
    build: (w: PacketWriter) => PacketWriter | undefined,
  ): Promise<Reply> {
    if (!this.has(name)) {
      return Promise.reject(
        new SftpStatusError(
          `${printablePath(path)}: the server does not support ${name}`,
          Status.OpUnsupported,
        ),
      );
    }
    return this.#call(Packet.Extended, path, (w) => build(w.string(name)));
  }

  #call(type: number, _path: SftpPath, build: (w: PacketWriter) => unknown, pieces = false): Promise<Reply> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    const w = new PacketWriter(type, id);
    build(w);
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, pieces ? { resolve, reject, pieces } : { resolve, reject });
      this.#output.write(w.finish());
    });
  }

  /** One reply: to the request waiting for its id. An unknown id is a broken server (thrown). */
  #dispatch(pieces: Buffer[]): void {
    // The head is nearly always within the first piece; when it is not, the pieces are joined.
    const first = pieces[0]!;
    const frame = first.length >= DATA_HEAD ? first : joined(pieces);
    let r = new PacketReader(frame);
    const type = r.byte();
    const id = r.uint32();
    const waiter = this.#pending.get(id);
    if (!waiter) throw new RemoteError(`SFTP reply with unknown request id ${id}`);
    this.#pending.delete(id);
    if (frame !== first || pieces.length === 1) {
      waiter.resolve({ type, r });
    } else if (type === Packet.Data && waiter.pieces) {
      try {
        waiter.resolve({ type, r, pieces: dataPieces(pieces, r) });
      } catch (err) {
        waiter.reject(err as Error);
      }
    } else {
      r = new PacketReader(joined(pieces)).skip(5);
      waiter.resolve({ type, r });
    }
  }

  #fail(why: Error): void {
    this.#closed ??= why;
    for (const w of this.#pending.values()) w.reject(this.#closed);
    this.#pending.clear();
  }

  #status(reply: Reply, path: SftpPath): number {
    if (reply.type !== Packet.Status) {
      throw new RemoteError(`${printablePath(path)}: unexpected SFTP reply type ${reply.type}`);
    }
    return reply.r.uint32();
  }

  #statusError(_r: PacketReader, status: number, path: SftpPath): SftpStatusError {
    return new SftpStatusError(`${printablePath(path)}: ${statusText(status)}`, status);
  }

  #ok(reply: Reply, path: SftpPath): void {
    const status = this.#status(reply, path);
    if (status !== Status.Ok) throw this.#statusError(reply.r, status, path);
  }

  #handle(path: SftpPath, reply: Reply): Buffer {
    if (reply.type === Packet.Handle) return Buffer.from(reply.r.string());
    throw this.#statusError(reply.r, this.#status(reply, path), path);
  }

  #attrs(path: SftpPath, reply: Reply): SftpAttrs {
    if (reply.type === Packet.Attrs) return readAttrs(reply.r);
    throw this.#statusError(reply.r, this.#status(reply, path), path);
  }

  #name(path: SftpPath, reply: Reply): Buffer {
    if (reply.type === Packet.Name && reply.r.uint32() >= 1) return Buffer.from(reply.r.string());
    throw this.#statusError(reply.r, this.#status(reply, path), path);
  }
}
