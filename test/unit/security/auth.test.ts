import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AnyAuthMethod, BaseAgent, type ParsedKey, utils } from 'ssh2';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { HostConfig } from '../../../src/config/host-config.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { AuthError, NetworkError } from '../../../src/errors.js';
import { agentPathFor, WINDOWS_AGENT_PIPE } from '../../../src/security/agent-path.js';
import { type AuthHandler, createAuthProvider, explainAuthFailure } from '../../../src/security/auth.js';
import { itPosix } from '../../helpers/posix-only.js';
import { makeKey, type TestKey } from './keygen.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const [a, b, c, x] = ['a', 'b', 'c', 'x'].map((n) => makeKey(dir, `id_${n}`)) as [
  TestKey,
  TestKey,
  TestKey,
  TestKey,
];

function parsed(k: TestKey): ParsedKey {
  return utils.parseKey(readFileSync(k.file)) as ParsedKey;
}

/** An in-memory agent holding some of the test keys, in a given order. */
class FakeAgent extends BaseAgent<ParsedKey> {
  readonly #keys: { pub: ParsedKey; test: TestKey }[];
  constructor(keys: TestKey[]) {
    super();
    this.#keys = keys.map((test) => ({
      pub: utils.parseKey(readFileSync(`${test.file}.pub`)) as ParsedKey,
      test,
    }));
  }
  getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void): void {
    cb(
      null,
      this.#keys.map((k) => k.pub),
    );
  }
  sign(pub: ParsedKey, data: Buffer, _o: unknown, cb?: (err: Error | null, sig?: Buffer) => void): void {
    const k = this.#keys.find((t) => t.test.blob.equals(pub.getPublicSSH()));
    cb?.(null, parsed(k?.test as TestKey).sign(data));
  }
}

function load(m: AnyAuthMethod): Promise<ParsedKey[]> {
  const agent = (m as { agent: BaseAgent<ParsedKey> }).agent;
  return new Promise((resolve, reject) =>
    agent.getIdentities((err, keys) => (err ? reject(err) : resolve((keys ?? []) as ParsedKey[]))),
  );
}

/** Drive the handler as ssh2 does against a server that refuses every request, listing `methods`. */
async function requests(handler: AuthHandler, methods = ['publickey']): Promise<AnyAuthMethod[]> {
  const out: AnyAuthMethod[] = [];
  let left: string[] | null = null;
  for (;;) {
    const m = await new Promise<AnyAuthMethod | false>((resolve) => handler(left, false, resolve));
    if (m === false) return out;
    out.push(m);
    left = methods;
  }
}

async function offered(handler: AuthHandler | AnyAuthMethod[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const m of await requests(handler as AuthHandler)) {
    if (m.type === 'publickey') out.push((m.key as ParsedKey).getPublicSSH());
    else if (m.type === 'agent') for (const k of await load(m)) out.push(k.getPublicSSH());
  }
  return out;
}

function host(extra: Partial<HostConfig> = {}): HostConfig {
  return {
    ...plainHostConfig({ host: 'h', identityFiles: [a.file, b.file, c.file] }),
    identitiesOnly: false,
    ...extra,
  };
}

describe('agentPathFor (IdentityAgent semantics)', () => {
  const env = { SSH_AUTH_SOCK: '/run/agent.sock', OTHER: '/run/other.sock' };
  it.each([
    [undefined, env, 'linux', '/run/agent.sock'],
    ['SSH_AUTH_SOCK', env, 'linux', '/run/agent.sock'],
    ['none', env, 'linux', undefined],
    ['$OTHER', env, 'linux', '/run/other.sock'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: OpenSSH's ${VAR} syntax, not a template
    ['${OTHER}', env, 'linux', '/run/other.sock'],
    ['$UNSET', env, 'linux', undefined],
    ['/explicit.sock', env, 'linux', '/explicit.sock'],
    [undefined, {}, 'linux', undefined],
    [undefined, {}, 'win32', WINDOWS_AGENT_PIPE],
    [undefined, env, 'win32', '/run/agent.sock'],
    ['\\\\.\\pipe\\my-agent', env, 'win32', '\\\\.\\pipe\\my-agent'],
    ['pageant', env, 'win32', 'pageant'],
    [undefined, { SSH_AUTH_SOCK: 'pageant' }, 'win32', 'pageant'],
  ] as const)('IdentityAgent %s with %o on %s → %s', (identityAgent, e, platform, want) => {
    expect(agentPathFor({ identityAgent }, e, platform)).toBe(want);
  });
  it('refuses Pageant off Windows, by name, wherever the value comes from', () => {
    for (const [identityAgent, e] of [
      ['pageant', {}],
      [undefined, { SSH_AUTH_SOCK: 'pageant' }],
      ['$A', { A: 'pageant' }],
    ] as const) {
      expect(() => agentPathFor({ identityAgent }, e, 'linux')).toThrow(
        /IdentityAgent pageant selects PuTTY's Pageant, which exists only on Windows; on linux/,
      );
    }
  });
  it('names the Windows OpenSSH pipe', () => {
    expect(WINDOWS_AGENT_PIPE).toBe('\\\\.\\pipe\\openssh-ssh-agent');
  });
});

describe('createAuthProvider', () => {
  it('orders like OpenSSH: configured keys held by the agent (agent order), other agent keys, then the remaining files', async () => {
    const agent = new FakeAgent([c, x, a]);
    const provider = createAuthProvider({ env: { SSH_AUTH_SOCK: '/fake' }, createAgent: () => agent });
    const order = await offered(await provider(host()));
    expect(order).toEqual([c.blob, a.blob, x.blob, b.blob]);
  });

  it('IdentitiesOnly: uses agent keys only when they match a configured identity', async () => {
    const agent = new FakeAgent([c, x, a]);
    const provider = createAuthProvider({ env: { SSH_AUTH_SOCK: '/fake' }, createAgent: () => agent });
    expect(await offered(await provider(host({ identitiesOnly: true })))).toEqual([c.blob, a.blob, b.blob]);
  });

  it('IdentityAgent none: files only, and an unreachable agent is noted, not fatal', async () => {
    const createAgent = vi.fn(() => new FakeAgent([x]));
    const none = createAuthProvider({ env: { SSH_AUTH_SOCK: '/fake' }, createAgent });
    expect(await offered(await none(host({ identityAgent: 'none' })))).toEqual([a.blob, b.blob, c.blob]);
    expect(createAgent).not.toHaveBeenCalled();
    const missing = createAuthProvider({ env: { SSH_AUTH_SOCK: path.join(dir, 'no-such.sock') } });
    const methods = await missing(host());
    expect(await offered(methods)).toEqual([a.blob, b.blob, c.blob]);
    const err = explainAuthFailure(
      new AuthError('All configured authentication methods failed'),
      methods as AuthHandler,
    );
    expect(err.message).toMatch(/agent .*no-such\.sock unavailable/);
  });

  it('skips identity files that do not exist', async () => {
    const provider = createAuthProvider({ env: {} });
    const methods = await provider(host({ identityFiles: [path.join(dir, 'missing'), b.file] }));
    expect(await offered(methods)).toEqual([b.blob]);
  });

  itPosix('POSIX file modes')(
    'ignores a key readable by others (UNPROTECTED PRIVATE KEY FILE) and says so in the auth error',
    async () => {
      const loose = makeKey(dir, 'id_loose');
      chmodSync(loose.file, 0o644);
      const provider = createAuthProvider({ env: {} });
      const methods = await provider(host({ identityFiles: [loose.file, a.file] }));
      expect(await offered(methods)).toEqual([a.blob]);
      const err = explainAuthFailure(
        new AuthError('All configured authentication methods failed'),
        methods as AuthHandler,
      );
      expect(err).toBeInstanceOf(AuthError);
      expect(err.message).toContain('UNPROTECTED PRIVATE KEY FILE');
      expect(err.message).toContain(`${loose.file}`);
      expect((err as AuthError).tried).toEqual([`${a.file} ED25519 ${a.fingerprint}`]);
    },
  );

  it('asks for a passphrase only when the key is tried, retries, and never reports the secret', async () => {
    const enc = makeKey(dir, 'id_enc', 'ed25519', 'right horse');
    const answers = ['wrong', 'right horse'];
    const passphrase = vi.fn(async () => answers.shift());
    const provider = createAuthProvider({ env: {}, passphrase });
    const methods = await provider(host({ identityFiles: [enc.file] }));
    expect(passphrase).not.toHaveBeenCalled();
    expect(await offered(methods)).toEqual([enc.blob]);
    expect(passphrase).toHaveBeenCalledTimes(2);
    const err = explainAuthFailure(new AuthError('failed'), methods as AuthHandler) as AuthError;
    expect(err.tried).toEqual([`${enc.file} ED25519 ${enc.fingerprint}`]);
    expect(err.message).not.toMatch(/wrong|horse/);
  });

  it('skips an encrypted key without a passphrase, matching it against the agent without decrypting', async () => {
    const enc = makeKey(dir, 'id_enc2', 'ed25519', 'secret');
    const agent = new FakeAgent([enc]);
    rmSync(`${enc.file}.pub`); // the public half must come from the private file's header
    const provider = createAuthProvider({ env: {} });
    const methods = await provider(host({ identityFiles: [enc.file] }));
    expect(await offered(methods)).toEqual([]);
    expect(explainAuthFailure(new AuthError('failed'), methods as AuthHandler).message).toContain(
      `${enc.file}: encrypted`,
    );
    // Held by an agent, the same encrypted file needs no passphrase.
    const withAgent = createAuthProvider({
      env: { SSH_AUTH_SOCK: '/fake' },
      createAgent: () => agent,
    });
    const m2 = await withAgent(host({ identityFiles: [enc.file], identitiesOnly: true }));
    expect(await offered(m2)).toEqual([enc.blob]);
  });

  it('reports a mid-authentication disconnect (MaxAuthTries) as an AuthError, and leaves other errors alone', async () => {
    const provider = createAuthProvider({ env: {} });
    const methods = await provider(host());
    const disconnect = Object.assign(new Error('Too many authentication failures'), { code: 2 });
    const early = new NetworkError('connection failed', { cause: disconnect });
    expect(explainAuthFailure(early, methods)).toBe(early); // nothing offered yet
    await offered(methods);
    const late = explainAuthFailure(new NetworkError('connection failed', { cause: disconnect }), methods);
    expect(late).toBeInstanceOf(AuthError);
    expect(late.message).toMatch(/MaxAuthTries/);
    const refused = new NetworkError('ECONNREFUSED', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    expect(explainAuthFailure(refused, methods)).toBe(refused);
    expect(explainAuthFailure(new AuthError('x'), [])).toBeInstanceOf(AuthError);
  });

  it('PubkeyAuthentication no: no key is offered and the agent is never opened', async () => {
    const createAgent = vi.fn(() => new FakeAgent([a]));
    const provider = createAuthProvider({ env: { SSH_AUTH_SOCK: '/fake' }, createAgent });
    const h = host({ identityAgent: undefined });
    const off = { ...h, authentication: { ...h.authentication, pubkey: false, pubkeyMode: 'no' as const } };
    expect(await offered(await provider(off))).toEqual([]);
    expect(createAgent).not.toHaveBeenCalled();
  });

  it('password without a prompter: not sent, and the failure says a prompt was needed', async () => {
    const handler = (await createAuthProvider({ env: {} })(host({ identityFiles: [] }))) as AuthHandler;
    expect((await requests(handler, ['password'])).map((m) => m.type)).toEqual(['none']);
    const err = explainAuthFailure(new AuthError('All configured authentication methods failed'), handler);
    expect(err.code).toBe('SSHMUX_ERR_AUTH_PROMPT');
    expect(err.message).toContain('@h: Permission denied (password).');
  });

  it('password with a prompter: ssh prompt, NumberOfPasswordPrompts tries, retry notice', async () => {
    const asked: string[] = [];
    const notices: string[] = [];
    const prompter = {
      ask: async (p: string) => {
        asked.push(p);
        return 'pw';
      },
      notice: (t: string) => notices.push(t),
    };
    const h = host({ identityFiles: [], user: 'bob' });
    const two = { ...h, authentication: { ...h.authentication, numberOfPasswordPrompts: 2 } };
    const handler = (await createAuthProvider({ env: {}, prompter })(two)) as AuthHandler;
    const sent = await requests(handler, ['password']);
    expect(sent.map((m) => m.type)).toEqual(['none', 'password', 'password']);
    expect(asked).toEqual(["bob@h's password: ", "bob@h's password: "]);
    expect(notices).toEqual(['Permission denied, please try again.']);
  });

  it('hostbased, and gssapi-with-mic with Kerberos credentials, stop the connect by name when the server offers them', async () => {
    const h = host({ identityFiles: [] });
    const on = { ...h, authentication: { ...h.authentication, hostbased: true, gssapi: true } };
    const run = async (env: NodeJS.ProcessEnv, methods: string[]) => {
      const handler = (await createAuthProvider({ env })(on)) as AuthHandler;
      const sent = await requests(handler, methods);
      return { sent, err: explainAuthFailure(new AuthError('failed'), handler) };
    };
    // No credential cache: ssh sends no gssapi request and moves on; so does sshmux.
    const noCache = await run({ KRB5CCNAME: `FILE:${path.join(dir, 'no-cache')}` }, ['gssapi-with-mic']);
    expect(noCache.sent.map((m) => m.type)).toEqual(['none']);
    expect(noCache.err.message).toContain('Permission denied (gssapi-with-mic).');
    const cache = path.join(dir, 'krb5cc');
    writeFileSync(cache, '');
    const withCache = await run({ KRB5CCNAME: `FILE:${cache}` }, ['gssapi-with-mic', 'publickey']);
    expect(withCache.err.kind).toBe('config');
    expect(withCache.err.message).toContain('GSSAPIAuthentication yes is not supported by sshmux');
    const hostbased = await run({}, ['hostbased']);
    expect(hostbased.err.message).toContain('HostbasedAuthentication yes is not supported by sshmux');
    // Not offered by the server: nothing to refuse.
    expect((await run({ KRB5CCNAME: `FILE:${cache}` }, ['publickey'])).err.kind).toBe('auth');
  });

  it('refuses PubkeyAuthentication host-bound and KbdInteractiveDevices by name', async () => {
    const h = host();
    const provider = createAuthProvider({ env: {} });
    await expect(
      provider({ ...h, authentication: { ...h.authentication, pubkeyMode: 'host-bound' } }),
    ).rejects.toThrow('PubkeyAuthentication host-bound is not supported by sshmux');
    await expect(
      provider({ ...h, authentication: { ...h.authentication, kbdInteractiveDevices: 'pam' } }),
    ).rejects.toThrow('KbdInteractiveDevices is not supported by sshmux');
  });

  it('stopForPrompts (the daemon): an encrypted key or a password turn ends the connect with SSHMUX_ERR_AUTH_PROMPT', async () => {
    const enc = makeKey(dir, 'id_enc3', 'ed25519', 'phrase');
    const provider = createAuthProvider({ env: {}, stopForPrompts: true });
    const keyFirst = (await provider(host({ identityFiles: [enc.file, a.file] }))) as AuthHandler;
    // The encrypted key comes first: the connect stops there instead of skipping to the next key.
    expect((await requests(keyFirst)).map((m) => m.type)).toEqual(['none']);
    expect(explainAuthFailure(new AuthError('failed'), keyFirst).code).toBe('SSHMUX_ERR_AUTH_PROMPT');
    const pw = (await provider(host({ identityFiles: [] }))) as AuthHandler;
    await requests(pw, ['password']);
    expect(explainAuthFailure(new AuthError('failed'), pw).code).toBe('SSHMUX_ERR_AUTH_PROMPT');
    // BatchMode asks nobody anyway: the key is skipped as ssh skips it.
    const batch = (await provider({
      ...host({ identityFiles: [enc.file, a.file] }),
      batchMode: true,
    })) as AuthHandler;
    expect(await offered(batch)).toEqual([a.blob]);
  });

  it('keyboard-interactive: name and instruction as notices, each question prefixed and echoed as the server asks', async () => {
    const asked: [string, boolean][] = [];
    const notices: string[] = [];
    const answers = ['a1', 'a2'];
    const prompter = {
      ask: async (p: string, echo: boolean) => {
        asked.push([p, echo]);
        return answers.shift() ?? '';
      },
      notice: (t: string) => notices.push(t),
    };
    const h = host({ identityFiles: [], user: 'bob' });
    const handler = (await createAuthProvider({ env: {}, prompter })(h)) as AuthHandler;
    const none = await new Promise<AnyAuthMethod | false>((r) => handler(null, false, r));
    expect(none).toMatchObject({ type: 'none' });
    const kbd = await new Promise<AnyAuthMethod | false>((r) => handler(['keyboard-interactive'], false, r));
    expect(kbd).toMatchObject({ type: 'keyboard-interactive', username: 'bob' });
    const prompt = (kbd as { prompt: (...a: unknown[]) => void }).prompt;
    const sent = await new Promise<string[]>((finish) =>
      prompt(
        'Name',
        'Instr',
        '',
        [
          { prompt: 'Code: ', echo: true },
          { prompt: 'PIN: ', echo: false },
        ],
        finish,
      ),
    );
    expect(sent).toEqual(['a1', 'a2']);
    expect(asked).toEqual([
      ['(bob@h) Code: ', true],
      ['(bob@h) PIN: ', false],
    ]);
    expect(notices).toEqual(['Name', 'Instr']);
  });

  it('keyboard-interactive: a server that never asked a question is not tried a second time (sshconnect2.c)', async () => {
    const prompter = { ask: async () => 'x', notice: () => {} };
    const handler = (await createAuthProvider({ env: {}, prompter })(
      host({ identityFiles: [] }),
    )) as AuthHandler;
    expect((await requests(handler, ['keyboard-interactive'])).map((m) => m.type)).toEqual([
      'none',
      'keyboard-interactive',
    ]);
  });
});
