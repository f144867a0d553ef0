import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StartedSshd } from '../helpers/sshd.js';
import { CLI, MuxSandbox } from './mux-helpers.js';

export interface ClientResult {
  code: number | null;
  stdout: string;
  /** stderr with ssh's CRLF line ends made LF, so both clients compare line by line. */
  stderr: string;
  /** The prompts the askpass program was shown, in order. */
  prompts: string[];
}

/** How sshmux runs: through its daemon (as git would use it) or in-process. */
export type Mode = 'daemon' | 'direct';

/**
 * Runs the same argv through /usr/bin/ssh and `sshmux ssh`, each in a session of its own
 * (`setsid`: no controlling terminal, as under cron or git), answering prompts through an
 * SSH_ASKPASS script that logs each prompt and prints ASKPASS_ANSWER.
 */
export class AuthClients {
  readonly sandbox: MuxSandbox;
  readonly sshd: StartedSshd;
  readonly config: string;
  readonly askpass: string;
  readonly #log: string;

  constructor(sshd: StartedSshd) {
    this.sshd = sshd;
    this.sandbox = new MuxSandbox(sshd);
    this.config = path.join(this.sandbox.runtimeDir, 'ssh_config');
    this.askpass = path.join(this.sandbox.runtimeDir, 'askpass');
    this.#log = path.join(this.sandbox.runtimeDir, 'askpass.log');
    writeFileSync(
      this.askpass,
      '#!/bin/sh\nprintf "%s\\n" "$1" >> "$ASKPASS_LOG"\nprintf "%s\\n" "$ASKPASS_ANSWER"\n',
      { mode: 0o755 },
    );
    // The target as a user's config would name it; no agent, no host keys of this machine.
    writeFileSync(
      this.config,
      [
        'Host target',
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        '  User backup',
        `  IdentityFile ${sshd.keyPath}`,
        '  IdentitiesOnly yes',
        '  IdentityAgent none',
        `  UserKnownHostsFile ${sshd.knownHostsFile}`,
        '  GlobalKnownHostsFile none',
        '  StrictHostKeyChecking yes',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }

  /**
   * Run one client with `args` (before `target`) and the remote `command` (none: omitted).
   * `input` is piped to stdin; `terminal` runs the client on a pseudo-terminal (`script`),
   * where `type.text` is typed once `type.after` was shown.
   */
  run(
    client: 'ssh' | Mode,
    args: string[],
    command: string | undefined,
    env: Record<string, string> = {},
    options: { input?: string; terminal?: boolean; type?: { after: string; text: string } } = {},
  ): Promise<ClientResult> {
    rmSync(this.#log, { force: true });
    const tail = command === undefined ? ['target'] : ['target', command];
    const argv =
      client === 'ssh'
        ? ['/usr/bin/ssh', '-F', this.config, ...args, ...tail]
        : [process.execPath, CLI, 'ssh', '-F', this.config, ...args, ...tail];
    const fullEnv: NodeJS.ProcessEnv = {
      ...this.sandbox.env({
        SSH_ASKPASS: this.askpass,
        SSH_ASKPASS_REQUIRE: 'force',
        ASKPASS_LOG: this.#log,
        ...(client === 'direct' && { SSHMUX_NO_DAEMON: '1' }),
        ...env,
      }),
    };
    delete fullEnv.DISPLAY;
    return new Promise((resolve, reject) => {
      const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
      const child = options.terminal
        ? spawn('script', ['-qec', quoted, '/dev/null'], { env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn('setsid', ['-w', ...argv], { env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin.on('error', () => {});
      if (options.terminal) {
        // script ends the session when its stdin ends: keep it open until the client is done.
        child.on('close', () => child.stdin.destroy());
      } else {
        child.stdin.end(options.input ?? '');
      }
      let out = '';
      let err = '';
      let typed = false;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // A person at the terminal: type the answer once the prompt is shown.
        if (options.type && !typed && out.includes(options.type.after)) {
          typed = true;
          child.stdin.write(options.type.text);
        }
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => {
        const prompts = existsSync(this.#log)
          ? readFileSync(this.#log, 'utf8')
              .split('\n')
              .filter((l) => l !== '')
          : [];
        resolve({ code, stdout: out, stderr: err.replace(/\r\n/g, '\n'), prompts });
      });
    });
  }

  async cleanup(): Promise<void> {
    await this.sandbox.cleanup();
  }
}

/** Lines of sshd's log added after `before` (the log's length when the run started). */
export function newLogLines(log: string, before: number): string[] {
  return log.slice(before).split('\n');
}
