/** What the SOCKS client asked for: a TCP target, named as the server side will resolve it. */
export interface SocksConnect {
  readonly version: 4 | 5;
  /** `SOCKS4` / `SOCKS4A` / `SOCKS5`, for log lines. */
  readonly protocol: 'SOCKS4' | 'SOCKS4A' | 'SOCKS5';
  readonly host: string;
  readonly port: number;
}

/**
 * One step of the handshake, as ssh's dynamic forwarding decodes it (channels.c
 * channel_pre_dynamic): wait for more bytes, send a reply and go on, connect, or refuse.
 */
export type SocksStep =
  | { readonly kind: 'more'; readonly reply?: Buffer }
  | {
      readonly kind: 'connect';
      readonly request: SocksConnect;
      /** ssh answers "granted" before the channel opens; a failed open then just closes the socket. */
      readonly reply: Buffer;
      /** Bytes the client sent after the request: the start of the channel's data. */
      readonly rest: Buffer;
    }
  | { readonly kind: 'refuse'; readonly why: string };

/** ssh's limit for SOCKS4 user ids and SOCKS4A host names (sshbuf_get_nulterminated_string). */
const MAX_STRING = 1024;

const MORE: SocksStep = Object.freeze({ kind: 'more' });

function refuse(why: string): SocksStep {
  return { kind: 'refuse', why };
}

/** A NUL-terminated string at `at`: its end, `more`, or too long. */
function cString(buf: Buffer, at: number): number | 'more' | 'long' {
  const nul = buf.indexOf(0, at);
  if (nul === -1) return buf.length - at >= MAX_STRING ? 'long' : 'more';
  return nul - at >= MAX_STRING ? 'long' : nul;
}

function socks4(buf: Buffer): SocksStep {
  if (buf.length < 9) return MORE;
  const command = buf[1]!;
  const port = buf.readUInt16BE(2);
  const ip = buf.subarray(4, 8);
  const userEnd = cString(buf, 8);
  if (userEnd === 'long') return refuse('SOCKS4 user name too long');
  if (userEnd === 'more') return MORE;
  let host: string;
  let end = userEnd + 1;
  const is4a = ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0;
  if (is4a) {
    const hostEnd = cString(buf, end);
    if (hostEnd === 'long') return refuse('SOCKS4A host name too long');
    if (hostEnd === 'more') return MORE;
    host = buf.subarray(end, hostEnd).toString('latin1');
    end = hostEnd + 1;
  } else {
    host = [...ip].join('.');
  }
  const protocol = is4a ? 'SOCKS4A' : 'SOCKS4';
  if (command !== 1)
    return refuse(`cannot handle ${protocol} command 0x${command.toString(16).padStart(2, '0')}`);
  // vn 0, cd 90 (granted), port and address ignored by clients.
  const reply = Buffer.from([0, 90, 0, 0, 0, 0, 0, 0]);
  return { kind: 'connect', request: { version: 4, protocol, host, port }, reply, rest: buf.subarray(end) };
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // The longest run of two or more zero groups becomes `::`, as inet_ntop writes it.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/**
 * The SOCKS handshake of one dynamic-forward connection. Feed it every chunk the client sends
 * until it says `connect` or `refuse`; it keeps what it has not consumed.
 */
export class SocksHandshake {
  #buf: Buffer = Buffer.alloc(0);
  #authDone = false;
  #finished = false;

  push(chunk: Buffer): SocksStep {
    if (this.#finished) throw new Error('SocksHandshake: push after the handshake finished');
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const step = this.#step();
    if (step.kind !== 'more') {
      this.#finished = true;
      this.#buf = Buffer.alloc(0);
    }
    return step;
  }

  #step(): SocksStep {
    const buf = this.#buf;
    if (!this.#authDone && buf.length < 3) return MORE;
    switch (this.#authDone ? 5 : buf[0]) {
      case 4:
        return socks4(buf);
      case 5:
        return this.#socks5();
      default:
        return refuse(`unknown SOCKS version ${buf[0]}`);
    }
  }

  #socks5(): SocksStep {
    let reply: Buffer | undefined;
    if (!this.#authDone) {
      const methods = this.#buf[1]!;
      if (this.#buf.length < 2 + methods) return MORE;
      if (!this.#buf.subarray(2, 2 + methods).includes(0)) {
        return refuse('SOCKS5: the client offers no method without authentication');
      }
      this.#authDone = true;
      this.#buf = this.#buf.subarray(2 + methods);
      reply = Buffer.from([5, 0]);
    }
    const step = this.#socks5Request();
    if (reply === undefined) return step;
    if (step.kind === 'more') return { kind: 'more', reply };
    if (step.kind === 'connect') return { ...step, reply: Buffer.concat([reply, step.reply]) };
    return step;
  }

  #socks5Request(): SocksStep {
    const buf = this.#buf;
    if (buf.length < 4) return MORE;
    if (buf[0] !== 5 || buf[1] !== 1 || buf[2] !== 0) return refuse('only SOCKS5 CONNECT is supported');
    let host: string;
    let at: number;
    switch (buf[3]) {
      case 1:
        if (buf.length < 10) return MORE;
        host = [...buf.subarray(4, 8)].join('.');
        at = 8;
        break;
      case 3: {
        if (buf.length < 5) return MORE;
        const len = buf[4]!;
        if (buf.length < 5 + len + 2) return MORE;
        const name = buf.subarray(5, 5 + len);
        // ssh keeps the name as a C string: it ends at a NUL.
        const nul = name.indexOf(0);
        host = (nul === -1 ? name : name.subarray(0, nul)).toString('latin1');
        at = 5 + len;
        break;
      }
      case 4:
        if (buf.length < 22) return MORE;
        host = ipv6(buf.subarray(4, 20));
        at = 20;
        break;
      default:
        return refuse(`bad SOCKS5 address type ${buf[3]}`);
    }
    const port = buf.readUInt16BE(at);
    // ssh 9.2 answers success with 0.0.0.0 port 0 (later OpenSSH echoes the port; clients ignore both).
    const reply = Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    return {
      kind: 'connect',
      request: { version: 5, protocol: 'SOCKS5', host, port },
      reply,
      rest: buf.subarray(at + 2),
    };
  }
}
