import { Argument, Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completeWords, formatCompletion } from '../../../src/cli/completion-engine.js';
import { commandSpec } from '../../../src/cli/completion-spec.js';

function program(): Command {
  const p = new Command('sshmux').option('-v, --verbose', 'more logs');
  p.command('ssh');
  p.command('scp');
  p.command('config')
    .argument('<dest>')
    .option('-F <file>', 'config file')
    .option('-o <option>', 'Key=Value')
    .option('-p <port>', 'port');
  p.command('push').argument('<local>').argument('<dest:PATH>').option('--checksum', 'by hash');
  p.command('completion').argument('[shell-or-words...]');
  p.command('pick').addArgument(new Argument('<color>').choices(['red', 'green']));
  const b = p.command('btrfs');
  b.command('send').argument('<snapshot>').argument('<dest:DIR>');
  return p;
}

const hostsSeen: (string | undefined)[] = [];
const hosts = (file: string | undefined) => {
  hostsSeen.push(file);
  return ['box', 'web', 'db'];
};
const complete = (...words: string[]) => completeWords(commandSpec(program()), words, hosts);

describe('completeWords', () => {
  it('commands, then subcommands, with their descriptions', () => {
    expect(complete('').candidates).toEqual(['ssh', 'scp', 'config', 'push', 'completion', 'pick', 'btrfs']);
    expect(complete('-v', 'b').candidates).toEqual(['btrfs']);
    expect(complete('btrfs', '').candidates).toEqual(['send']);
  });

  it("ssh's getopt grammar: clustered flags, values attached or next, options end at the destination", () => {
    expect(complete('ssh', '-4', '-p', '22', '').candidates).toEqual(['box', 'web', 'db']);
    expect(complete('ssh', '-4i', '').files).toBe(true);
    expect(complete('ssh', '-p22', 'w').candidates).toEqual(['web']);
    expect(complete('ssh', 'box', '-').candidates).toEqual([]);
    expect(complete('ssh', '-J', 'd').candidates).toEqual(['db']);
  });

  it('reads hosts from the -F the line gives', () => {
    hostsSeen.length = 0;
    complete('ssh', '-F', '/x/cfg', '');
    complete('ssh', '-qF/y/cfg', '');
    complete('config', '-F', '/z/cfg', '');
    expect(hostsSeen).toEqual(['/x/cfg', '/y/cfg', '/z/cfg']);
  });

  it('operands by their names: dest a host, dest:PATH a host: without a space, local a file', () => {
    expect(complete('push', '').files).toBe(true);
    const remote = complete('push', 'dir', 'b');
    expect(remote).toEqual({ candidates: ['box:'], files: false, nospace: true });
    expect(complete('scp', 'w')).toEqual({ candidates: ['web:'], files: true, nospace: true });
    expect(complete('scp', 'box:/e').candidates).toEqual([]);
    expect(complete('config', 'me@d').candidates).toEqual(['me@db']);
    expect(complete('btrfs', 'send', 'snap', 'w').candidates).toEqual(['web:']);
  });

  it('options of the command, and their values', () => {
    expect(complete('push', '--c').candidates).toEqual(['--checksum\tby hash']);
    expect(complete('config', '-F', '').files).toBe(true);
    expect(complete('config', '-p', '').candidates).toEqual([]);
    // After `--` a word starting with '-' is an operand, not an option.
    expect(complete('config', '--', '').candidates).toEqual(['box', 'web', 'db']);
    expect(complete('config', '--', '-').candidates).toEqual([]);
  });

  it('-o completes ssh_config keywords as OpenSSH spells them, then leaves the value alone', () => {
    expect(complete('ssh', '-o', 'stricth')).toEqual({
      candidates: ['StrictHostKeyChecking='],
      files: false,
      nospace: true,
    });
    expect(complete('ssh', '-o', 'Port=2')).toEqual({ candidates: [], files: false, nospace: false });
    expect(complete('config', '-o', 'ProxyJ').candidates).toEqual(['ProxyJump=']);
  });

  it('operands from a fixed set: commander choices, and the shells of `completion`', () => {
    expect(complete('pick', 'g').candidates).toEqual(['green']);
    expect(complete('completion', '').candidates).toEqual(['bash', 'zsh', 'fish', 'powershell']);
    expect(complete('completion', 'p').candidates).toEqual(['powershell']);
  });

  it('prints candidates, then the directive line', () => {
    expect(formatCompletion({ candidates: ['a', 'b'], files: true, nospace: true })).toBe(
      'a\nb\n:files,nospace\n',
    );
    expect(formatCompletion({ candidates: [], files: false, nospace: false })).toBe(':\n');
  });
});
