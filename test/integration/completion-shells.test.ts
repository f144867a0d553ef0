import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { TmuxTerminal } from '../helpers/tmux.js';

// The scripts `sshmux completion SHELL` prints, run in the real shells with a fixture ssh_config.
const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-completion-'));
const bin = path.join(dir, 'bin');
mkdirSync(bin);
writeFileSync(path.join(bin, 'sshmux'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
chmodSync(path.join(bin, 'sshmux'), 0o755);
mkdirSync(path.join(dir, 'conf.d'));
writeFileSync(path.join(dir, 'conf.d', 'work'), 'Host buildbox\n  HostName 10.0.0.9\n');
const cfg = path.join(dir, 'config');
writeFileSync(
  cfg,
  `Host box web\n  HostName 10.0.0.1\nHost *.example.com db-? !negated\n  User x\nInclude ${dir}/conf.d/*\nHost db\n`,
);
writeFileSync(path.join(dir, 'keyfile-one'), '');
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: dir };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = (shell: string) =>
  execFileSync(process.execPath, [CLI, 'completion', shell], { encoding: 'utf8' });

/** COMPREPLY after calling the completion function as bash does for `line` (cursor at its end). */
function bashComplete(line: string): string[] {
  const program = `
source <(sshmux completion bash)
COMP_LINE=${JSON.stringify(line)}
COMP_POINT=\${#COMP_LINE}
read -r -a COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
_sshmux_completion
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', program], {
    env,
    cwd: dir,
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l !== '');
}

describe('bash', () => {
  it('registers the function for sshmux', () => {
    const out = execFileSync(
      'bash',
      ['--norc', '-c', 'source <(sshmux completion bash); complete -p sshmux'],
      {
        env,
        encoding: 'utf8',
      },
    );
    expect(out.trim()).toBe('complete -F _sshmux_completion sshmux');
  });

  it('`sshmux ssh <TAB>` offers the aliases (Include followed), never wildcard patterns or negations', () => {
    expect(bashComplete(`sshmux ssh -F ${cfg} `)).toEqual(['box', 'web', 'buildbox', 'db']);
    expect(bashComplete(`sshmux ssh -F ${cfg} -p 22 -l me b`)).toEqual(['box', 'buildbox']);
    expect(bashComplete(`sshmux ssh -F ${cfg} root@w`)).toEqual(['root@web']);
    expect(bashComplete(`sshmux -v ssh -4F${cfg} d`)).toEqual(['db']);
  });

  it('completes commands, subcommands and options from the program definition', () => {
    expect(bashComplete('sshmux do')).toEqual(['doctor']);
    expect(bashComplete('sshmux c')).toEqual(['config', 'completion']);
    expect(bashComplete('sshmux btrfs re')).toEqual(['relay']);
    expect(bashComplete('sshmux doctor --j')).toEqual(['--json']);
    expect(bashComplete('sshmux push --ch')).toEqual(['--checksum']);
    expect(bashComplete('sshmux ssh -')).toContain('-J');
    expect(bashComplete(`sshmux doctor -F ${cfg} w`)).toEqual(['web']);
  });

  it('option values and operands: files for -i and local paths, host: for scp', () => {
    expect(bashComplete('sshmux ssh -i keyf')).toEqual(['keyfile-one']);
    expect(bashComplete(`sshmux scp -F ${cfg} we`)).toEqual(['web:']);
    expect(bashComplete(`sshmux scp -F ${cfg} keyf`)).toEqual(['keyfile-one']);
    // After the destination ssh takes a remote command: no hosts there.
    expect(bashComplete(`sshmux ssh -F ${cfg} box `)).toEqual([]);
  });

  it('a real TAB in an interactive bash completes the alias', async () => {
    const term = new TmuxTerminal(env);
    try {
      term.type(`source <(sshmux completion bash); cd ${dir}`);
      term.type(`sshmux ssh -F ${cfg} buil`, false);
      term.keys('Tab');
      await term.waitFor(new RegExp(`-F ${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} buildbox $`, 'm'));
    } finally {
      term.kill();
    }
  });
});

describe('zsh', () => {
  it('`sshmux ssh <TAB>` lists the aliases in a real interactive zsh (compinit)', async () => {
    const socket = `sshmux-zsh-${randomBytes(4).toString('hex')}`;
    const tmux = (...a: string[]) => execFileSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
    const vars = [`PATH=${env.PATH}`, `HOME=${dir}`, 'TERM=xterm', 'PS1=ZSH%% '];
    tmux('new-session', '-d', '-x', '150', '-y', '40', 'env', '-i', ...vars, 'zsh', '-f', '-i');
    try {
      const screen = () => tmux('capture-pane', '-p', '-J');
      const until = async (what: string, ok: (s: string) => boolean) => {
        const deadline = Date.now() + 20_000;
        while (!ok(screen())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${screen()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      tmux(
        'send-keys',
        '-l',
        'autoload -U compinit && compinit -u && source <(sshmux completion zsh) && echo READY',
      );
      tmux('send-keys', 'Enter');
      await until('READY', (s) => /^READY$/m.test(s));
      tmux('send-keys', '-l', `sshmux ssh -F ${cfg} `);
      tmux('send-keys', 'Tab');
      await until('the alias list', (s) => /\bbuildbox\b/.test(s) && /\bweb\b/.test(s));
      const s = screen();
      expect(s).toMatch(/\bbox\b/);
      expect(s).toMatch(/\bdb\b/);
      expect(s).not.toContain('example.com');
      expect(s).not.toContain('negated');
      tmux('send-keys', 'C-u');
      tmux('send-keys', '-l', 'sshmux doct');
      tmux('send-keys', 'Tab');
      await until('doctor completed', (s2) => /ZSH% sshmux doctor\s*$/m.test(s2));
    } finally {
      tmux('kill-server');
    }
  });
});

describe('fish', () => {
  const fish = (line: string) =>
    execFileSync(
      'fish',
      ['--no-config', '-c', `sshmux completion fish | source; complete -C ${JSON.stringify(line)}`],
      {
        env,
        cwd: dir,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter((l) => l !== '');

  it('`sshmux ssh <TAB>` offers the aliases, not the patterns', () => {
    // fish sorts what it offers.
    expect(fish(`sshmux ssh -F ${cfg} `)).toEqual(['box', 'buildbox', 'db', 'web']);
  });

  it('commands and options carry their descriptions; -i completes files', () => {
    expect(fish('sshmux doc')).toEqual([expect.stringMatching(/^doctor\tcheck this machine/)]);
    expect(fish('sshmux doctor --js')).toEqual(['--json\tprint the report as JSON']);
    expect(fish('sshmux ssh -i keyf')).toEqual(['keyfile-one']);
  });
});

describe('powershell', () => {
  // Debian has no pwsh: the script's text only.
  it('registers a native argument completer that calls back sshmux', () => {
    const text = script('powershell');
    expect(text).toContain('Register-ArgumentCompleter -Native -CommandName sshmux -ScriptBlock');
    expect(text).toContain('completion --complete "--current==$wordToComplete" -- @previous');
    expect(text).toContain('[System.Management.Automation.CompletionResult]::new(');
  });

  it('the callback it relies on: --current with a leading = carries an empty word', () => {
    const out = execFileSync(
      process.execPath,
      [CLI, 'completion', '--complete', '--current==', '--', 'ssh', '-F', cfg],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toBe('box\nweb\nbuildbox\ndb\n:\n');
  });
});

describe('sshmux completion', () => {
  it('refuses an unknown shell, naming the ones it knows', () => {
    let err = '';
    try {
      execFileSync(process.execPath, [CLI, 'completion', 'tcsh'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: string }).stderr);
    }
    expect(err).toContain('expected one shell (bash, zsh, fish, powershell), got `tcsh`');
  });

  it('--hosts lists the aliases, one per line', () => {
    expect(
      execFileSync(process.execPath, [CLI, 'completion', '--hosts', '-F', cfg], { encoding: 'utf8' }),
    ).toBe('box\nweb\nbuildbox\ndb\n');
  });
});
