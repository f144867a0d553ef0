import type { Client, ClientChannel, ExecOptions } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { requestSubsystem, subsystemRefused } from '../../../src/connection/subsystem-request.js';

/** ssh2's exec path, reduced to what matters: requests go out on the protocol object, in order. */
function fakeClient(refuse = false) {
  const sent: string[] = [];
  let channel = 0;
  const protocol = {
    env: (id: number, k: string, v: string) => sent.push(`${id} env ${k}=${v}`),
    exec: (id: number, command: string) => sent.push(`${id} exec ${command}`),
    subsystem: (id: number, name: string) => sent.push(`${id} subsystem ${name}`),
  };
  const client = {
    _protocol: protocol,
    exec(command: string, opts: ExecOptions, cb: (err: Error | undefined, ch: ClientChannel) => void) {
      const id = channel++;
      setImmediate(() => {
        for (const [k, v] of Object.entries(opts.env ?? {})) protocol.env(id, k, String(v));
        if (opts.pty) sent.push(`${id} pty-req`);
        protocol.exec(id, command);
        setImmediate(() =>
          cb(refuse ? new Error('Unable to exec') : undefined, { id } as unknown as ClientChannel),
        );
      });
    },
    subsys(name: string, cb: (err: Error | undefined, ch: ClientChannel) => void) {
      sent.push(`subsys ${name}`);
      cb(undefined, {} as ClientChannel);
    },
  };
  return { client: client as unknown as Client, sent };
}

const open = (client: Client, name: string, options: ExecOptions) =>
  new Promise<{ err: Error | undefined }>((resolve) =>
    requestSubsystem(client, name, options, (err) => resolve({ err })),
  );

describe('requestSubsystem (pty-req and env before the subsystem, as clientloop.c)', () => {
  it('sends env and pty first, then subsystem instead of exec; a plain exec alongside is untouched', async () => {
    const { client, sent } = fakeClient();
    const exec = new Promise<void>((resolve) => client.exec('ls -l', {}, () => resolve()));
    const r = await open(client, 'sftp', { env: { LANG: 'C' }, pty: true });
    await exec;
    expect(r.err).toBeUndefined();
    expect(sent).toEqual(['0 exec ls -l', '1 env LANG=C', '1 pty-req', '1 subsystem sftp']);
  });

  it("uses ssh2's own subsys() when there is nothing to send first", async () => {
    const { client, sent } = fakeClient();
    await open(client, 'sftp', {});
    expect(sent).toEqual(['subsys sftp']);
  });

  it("a refusal reads as the subsystem's, and becomes SSHMUX_ERR_SUBSYSTEM", async () => {
    const { client } = fakeClient(true);
    const { err } = await open(client, 'nope', { env: { A: 'b' } });
    expect(err?.message).toBe('Unable to start subsystem: nope');
    const e = subsystemRefused(err!, 'nope', 'u@h:22') as Error & { code: string; kind: string };
    expect(e).toMatchObject({ code: 'SSHMUX_ERR_SUBSYSTEM', kind: 'channel' });
    expect(subsystemRefused(new Error('other'), 'nope', 'u@h:22').message).toBe('other');
  });
});
