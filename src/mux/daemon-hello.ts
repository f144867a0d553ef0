import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FramedSocket } from './framed-socket.js';
import { helloProof, isNonce, newNonce, proofMatches } from './hello-proof.js';
import {
  checkHelloProtocol,
  type ErrorMessage,
  type Frame,
  FrameType,
  PROTOCOL_VERSION,
  ProtocolError,
} from './protocol.js';

export interface DaemonHelloOptions {
  readonly token: string;
  readonly version: string;
  readonly logger: Logger;
  /** Refuse the client with this error (the session sends it and closes). */
  fail(err: unknown): void;
  /**
   * The client proved the token. `sameVersion` false: a client of another sshmux version,
   * which may only send control requests (so `-O exit` of any version stops this daemon).
   */
  authenticated(sameVersion: boolean): void;
}

/**
 * The daemon's side of the hello: HELLO (client nonce) → CHALLENGE (our nonce and our proof,
 * first, so a client never proves anything to an impostor) → AUTH (the client's proof) →
 * WELCOME. Nothing but the proofs depends on the token.
 */
export function answerHello(conn: FramedSocket, o: DaemonHelloOptions): void {
  conn.onFrame((hello: Frame) => {
    conn.onFrame(undefined);
    if (hello.type !== FrameType.Hello) {
      o.fail(new ConfigError('expected a hello frame first'));
      return;
    }
    try {
      checkHelloProtocol(hello.body, o.version);
      if (!isNonce(hello.body.nonce)) throw new ProtocolError('the hello carries no valid nonce');
    } catch (err) {
      o.logger.warn({ err }, 'refused a client');
      o.fail(err);
      return;
    }
    const clientNonce = hello.body.nonce;
    const daemonNonce = newNonce();
    conn.send({
      type: FrameType.Challenge,
      body: {
        protocol: PROTOCOL_VERSION,
        version: o.version,
        pid: process.pid,
        nonce: daemonNonce,
        proof: helloProof(o.token, 'daemon', clientNonce, daemonNonce),
      },
    });
    conn.onFrame((auth: Frame) => {
      conn.onFrame(undefined);
      if (
        auth.type !== FrameType.Auth ||
        !proofMatches(o.token, 'client', clientNonce, daemonNonce, auth.body.proof)
      ) {
        const err = new ProtocolError('bad token: this daemon belongs to another user or runtime directory', {
          code: 'SSHMUX_ERR_MUX_TOKEN',
        });
        o.logger.warn({ err }, 'refused a client');
        o.fail(err);
        return;
      }
      conn.send({
        type: FrameType.Welcome,
        body: { protocol: PROTOCOL_VERSION, version: o.version, pid: process.pid },
      });
      o.authenticated(hello.body.version === o.version);
    });
  });
}

/** The error a client of another version gets when it asks for anything but a control request. */
export function otherVersionError(version: string): ErrorMessage {
  return {
    kind: 'local',
    code: 'SSHMUX_ERR_MUX_VERSION',
    message:
      `sshmux daemon protocol: version mismatch: this daemon (pid ${process.pid}) is sshmux ${version}; ` +
      'stop it with `sshmux ssh -O exit`',
  };
}
