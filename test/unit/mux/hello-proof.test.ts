import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.js';
import { type MuxEndpoint, prepareEndpoint, selectEndpoint } from '../../../src/mux/endpoint.js';
import { FramedSocket } from '../../../src/mux/framed-socket.js';
import { helloProof, newNonce, proofMatches } from '../../../src/mux/hello-proof.js';
import {
  connectDaemon,
  nextFrame,
  sendControl,
  UntrustedEndpointError,
} from '../../../src/mux/mux-client.js';
import { MuxDaemon } from '../../../src/mux/mux-daemon.js';
import { FrameDecoder, FrameType, PROTOCOL_VERSION } from '../../../src/mux/protocol.js';
import { describePosix } from '../../helpers/posix-only.js';
import { unusedRunner } from './unused-runner.js';

const runner = unusedRunner();

let dir: string;
let daemon: MuxDaemon | undefined;
const servers: net.Server[] = [];
afterEach(async () => {
  await daemon?.shutdown('test over');
  daemon = undefined;
  for (const s of servers.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function endpointIn(): MuxEndpoint {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-hello-'));
  const env = {
    platform: process.platform,
    env: { SSHMUX_RUNTIME_DIR: path.join(dir, 'rt') },
    uid: process.getuid?.() ?? -1,
    username: 'me',
    tmpdir: dir,
    homedir: dir,
  };
  const endpoint = selectEndpoint(env);
  prepareEndpoint(endpoint, env);
  return endpoint;
}

async function realDaemon(version = '1.0.0'): Promise<MuxEndpoint> {
  const endpoint = endpointIn();
  daemon = new MuxDaemon({ endpoint, runner, version, logger: silentLogger() });
  expect(await daemon.start()).toBe('listening');
  return endpoint;
}

/**
 * A stranger holding the endpoint: records every byte a client sends and answers each
 * connection with `answer` (a frame it makes up, or nothing).
 */
async function squatter(endpoint: MuxEndpoint, answer: (hello: Buffer) => Buffer | undefined) {
  const received: Buffer[] = [];
  const server = net.createServer((s) => {
    s.on('data', (d) => {
      received.push(d);
      const reply = answer(d);
      if (reply) s.write(reply);
    });
    s.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(endpoint.socketPath, r));
  // Whoever planted it knows a token file must exist for a client to try: the user's own.
  writeFileSync(endpoint.tokenFile, 'a'.repeat(64), { mode: 0o600 });
  return { received: () => Buffer.concat(received) };
}

function frame(type: number, body: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(body));
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(payload.length + 1, 0);
  out[4] = type;
  payload.copy(out, 5);
  return out;
}

// On Windows a client finds the daemon by its recorded pipe name, so a stranger on the base name
// is never contacted; the squatter cases there are test/windows/control.test.ts.
describePosix('a Unix-socket endpoint')(
  'daemon hello: the token never travels, the daemon proves first',
  () => {
    it('authenticates a client of the same version both ways, and the token is not on the wire', async () => {
      const endpoint = await realDaemon();
      const d = await connectDaemon(endpoint, '1.0.0');
      expect(d.pid).toBe(process.pid);
      const r = await sendControl(d, { op: 'check' });
      expect(r.pid).toBe(process.pid);
    });

    it('a stranger on the endpoint gets a nonce and nothing else, whatever it answers', async () => {
      const endpoint = endpointIn();
      const token = 'a'.repeat(64);
      let sawHello: { nonce: string } | undefined;
      const fake = await squatter(endpoint, (d) => {
        sawHello = (new FrameDecoder().push(d)[0] as { body: { nonce: string } }).body;
        // It cannot compute the proof: it makes one up.
        return frame(FrameType.Challenge, {
          protocol: PROTOCOL_VERSION,
          version: '1.0.0',
          pid: 1,
          nonce: newNonce(),
          proof: 'f'.repeat(64),
        });
      });
      const err = await connectDaemon(endpoint, '1.0.0').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UntrustedEndpointError);
      expect((err as Error).message).toMatch(/did not prove it is this user's daemon \(wrong proof\)/);
      const wire = fake.received();
      expect(wire.includes(token)).toBe(false);
      // Exactly one frame, the hello: no AUTH, so nothing it could replay or check a guess against.
      const frames = new FrameDecoder().push(wire);
      expect(frames.map((f) => f.type)).toEqual([FrameType.Hello]);
      expect(Object.keys((frames[0] as { body: object }).body).sort()).toEqual([
        'nonce',
        'protocol',
        'version',
      ]);
      expect(sawHello!.nonce).toMatch(/^[0-9a-f]{64}$/);
    });

    it('refuses a stranger that answers with an error, with nothing, or stays silent', async () => {
      const endpoint = endpointIn();
      await squatter(endpoint, () =>
        frame(FrameType.Error, {
          kind: 'local',
          code: 'SSHMUX_ERR_MUX_VERSION',
          message: 'version mismatch',
        }),
      );
      const err = await connectDaemon(endpoint, '1.0.0').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UntrustedEndpointError);
      expect((err as Error).message).toMatch(/answered with an error instead: version mismatch/);
      for (const s of servers.splice(0)) s.close();

      const silent = endpointIn();
      await squatter(silent, () => undefined);
      const t0 = Date.now();
      const quiet = await connectDaemon(silent, '1.0.0', { challengeTimeoutMs: 300 }).catch(
        (e: unknown) => e,
      );
      expect(quiet).toBeInstanceOf(UntrustedEndpointError);
      expect((quiet as Error).message).toMatch(/no proof: .*did not answer within 300 ms/);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it('refuses a proof replayed from another connection (bound to both nonces)', async () => {
      const endpoint = await realDaemon();
      const token = readFileSync(endpoint.tokenFile, 'utf8').trim();
      // A proof the real daemon gave for someone else's nonce is useless for ours.
      const other = newNonce();
      const theirs = helloProof(token, 'daemon', other, 'b'.repeat(64));
      expect(proofMatches(token, 'daemon', other, 'b'.repeat(64), theirs)).toBe(true);
      expect(proofMatches(token, 'daemon', newNonce(), 'b'.repeat(64), theirs)).toBe(false);
      // Nor does the daemon's proof pass as a client's.
      expect(proofMatches(token, 'client', other, 'b'.repeat(64), theirs)).toBe(false);
    });

    it('a client with the wrong token refuses the real daemon before proving anything', async () => {
      const endpoint = await realDaemon();
      const forged = path.join(dir, 'forged');
      writeFileSync(forged, 'f'.repeat(64));
      const err = await connectDaemon({ ...endpoint, tokenFile: forged }, '1.0.0').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UntrustedEndpointError);
    });

    it('the daemon refuses a client whose proof is wrong', async () => {
      const endpoint = await realDaemon();
      const conn = new FramedSocket(net.connect(endpoint.socketPath));
      conn.send({
        type: FrameType.Hello,
        body: { protocol: PROTOCOL_VERSION, version: '1.0.0', nonce: newNonce() },
      });
      const challenge = await nextFrame(conn);
      expect(challenge.type).toBe(FrameType.Challenge);
      conn.send({ type: FrameType.Auth, body: { proof: '0'.repeat(64) } });
      const answer = await nextFrame(conn);
      expect(answer).toMatchObject({ type: FrameType.Error, body: { code: 'SSHMUX_ERR_MUX_TOKEN' } });
      conn.destroy();
    });

    it('a client of another version may send control requests only', async () => {
      const endpoint = await realDaemon('1.0.0');
      await expect(connectDaemon(endpoint, '2.0.0')).rejects.toMatchObject({
        code: 'SSHMUX_ERR_MUX_VERSION',
      });
      const d = await connectDaemon(endpoint, '2.0.0', { anyVersion: true });
      d.conn.send({
        type: FrameType.Open,
        body: { host: {}, command: 'true', env: {}, pty: false, cwd: '/' },
      });
      const answer = await nextFrame(d.conn);
      expect(answer).toMatchObject({ type: FrameType.Error, body: { code: 'SSHMUX_ERR_MUX_VERSION' } });
      d.conn.destroy();
      const c = await connectDaemon(endpoint, '2.0.0', { anyVersion: true });
      expect((await sendControl(c, { op: 'check' })).version).toBe('1.0.0');
    });

    it('the daemon answers an old-protocol hello with a version error and proves nothing', async () => {
      const endpoint = await realDaemon();
      const conn = new FramedSocket(net.connect(endpoint.socketPath));
      conn.send({ type: FrameType.Hello, body: { protocol: 4, version: '1.0.0', token: 'x' } as never });
      const answer = await nextFrame(conn);
      expect(answer).toMatchObject({ type: FrameType.Error, body: { code: 'SSHMUX_ERR_MUX_VERSION' } });
      conn.destroy();
    });
  },
);
