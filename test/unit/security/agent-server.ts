import net from 'node:net';
import type { ParsedKey } from 'ssh2';

// The ssh-agent protocol (draft-miller-ssh-agent) as far as a client that lists and signs needs it.
const FAILURE = 5;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;

function sshString(b: Buffer | string): Buffer {
  const body = Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function message(type: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([type]), ...parts]);
  return Buffer.concat([sshString(body).subarray(0, 4), body]);
}

function readString(b: Buffer, at: number): [Buffer, number] {
  const n = b.readUInt32BE(at);
  return [b.subarray(at + 4, at + 4 + n), at + 4 + n];
}

/** A running test agent: where it listens, what it was asked, and how to stop it. */
export interface AgentServer {
  readonly endpoint: string;
  /** Message types received, in order. */
  readonly requests: number[];
  close(): Promise<void>;
}

/**
 * An ssh-agent holding `keys` (ed25519: signatures need no algorithm choice), listening on
 * `endpoint` — a socket path, or on Windows a named pipe (`\\.\pipe\…`), as Win32-OpenSSH's
 * agent does.
 */
export async function startAgentServer(endpoint: string, keys: readonly ParsedKey[]): Promise<AgentServer> {
  const requests: number[] = [];
  const answer = (req: Buffer): Buffer => {
    const type = req[0]!;
    requests.push(type);
    if (type === REQUEST_IDENTITIES) {
      const count = Buffer.alloc(4);
      count.writeUInt32BE(keys.length);
      const ids = keys.map((k) => Buffer.concat([sshString(k.getPublicSSH()), sshString(k.comment)]));
      return message(IDENTITIES_ANSWER, count, ...ids);
    }
    if (type === SIGN_REQUEST) {
      const [blob, next] = readString(req, 1);
      const [data] = readString(req, next);
      const key = keys.find((k) => k.getPublicSSH().equals(blob));
      if (key === undefined) return message(FAILURE);
      const signature = Buffer.concat([sshString(key.type), sshString(key.sign(data) as Buffer)]);
      return message(SIGN_RESPONSE, sshString(signature));
    }
    return message(FAILURE);
  };
  const server = net.createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const n = pending.readUInt32BE(0);
        socket.write(answer(pending.subarray(4, 4 + n)));
        pending = pending.subarray(4 + n);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint, resolve);
  });
  return {
    endpoint,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
