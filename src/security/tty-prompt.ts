import { openSync } from 'node:fs';
import tty from 'node:tty';
import { interruptAsTerminalWould } from '../death-hooks.js';
import { AbortedError, LocalError } from '../errors.js';
import type { HostKeyPrompt, HostKeyQuestion } from './verify-host-key.js';

/** Where a prompt reads and writes. @default the controlling terminal (`/dev/tty`), like OpenSSH */
export interface PromptIo {
  /** Where answers are read from (the terminal). */
  input: NodeJS.ReadableStream & {
    /** Turn echo off while a secret is typed. */
    setRawMode?: (raw: boolean) => unknown;
    /** Whether it is a terminal. */
    isTTY?: boolean;
  };
  /** Where prompts are written. */
  output: NodeJS.WritableStream;
  /** Releases the terminal after the prompt. */
  close?: () => void;
  /**
   * What Ctrl-C does once the terminal is restored, besides rejecting: the real terminal raises
   * SIGINT on this process, as the keypress would have outside raw mode (readpassphrase re-sends
   * it too, so ssh dies of it). @default nothing
   */
  interrupt?: () => void;
}

/** Open the controlling terminal; OpenSSH reads answers there, never from stdin (which may carry data). */
export function openTty(): PromptIo {
  if (process.platform === 'win32') {
    if (!process.stdin.isTTY) throw new LocalError('No terminal to prompt on (stdin is not a console)');
    return { input: process.stdin, output: process.stderr };
  }
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch (err) {
    throw new LocalError('No terminal to prompt on (/dev/tty cannot be opened)', { cause: err });
  }
  const input = new tty.ReadStream(fd);
  const output = new tty.WriteStream(fd);
  return {
    input,
    output,
    interrupt: interruptAsTerminalWould,
    close: () => {
      input.destroy();
      output.destroy();
    },
  };
}

/**
 * Read one line from a terminal after writing `prompt`. With `echo: false` the terminal is
 * put in raw mode and nothing typed is shown (passphrases). Ctrl-C aborts; end of input
 * returns what was typed so far, or `undefined` when nothing was.
 */
export function readLine(io: PromptIo, prompt: string, echo: boolean): Promise<string | undefined> {
  const { input, output } = io;
  const raw = !echo && typeof input.setRawMode === 'function' && input.isTTY === true;
  // Echo goes off before the prompt appears, as readpassphrase does: an answer typed the moment
  // the prompt shows must not be echoed.
  if (raw) input.setRawMode?.(true);
  output.write(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (err: Error | undefined, value?: string): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      if (raw) input.setRawMode?.(false);
      input.pause();
      if (!echo) output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') {
          done(undefined, text);
          return;
        }
        if (ch === '\u0003') {
          done(new AbortedError('Prompt interrupted'));
          io.interrupt?.();
          return;
        }
        if (ch === '\u0004' && text === '') {
          done(undefined, undefined);
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const onEnd = (): void => done(undefined, text === '' ? undefined : text);
    input.on('data', onData);
    input.once('end', onEnd);
    input.resume();
  });
}

/**
 * OpenSSH's host-key question on the terminal: "Are you sure you want to continue connecting
 * (yes/no/[fingerprint])?" — `yes`, or the fingerprint itself pasted, accepts.
 */
export function ttyHostKeyPrompt(open: () => PromptIo = openTty): HostKeyPrompt {
  return async (q: HostKeyQuestion) => {
    const io = open();
    try {
      if (q.warning) io.output.write(`${q.warning}\n`);
      const where = q.ip ? `${q.host} (${q.ip})` : q.host;
      io.output.write(
        `The authenticity of host '${where}' can't be established.\n` +
          `${q.keyType} key fingerprint is ${q.fingerprint}.\n`,
      );
      let question = 'Are you sure you want to continue connecting (yes/no/[fingerprint])? ';
      for (;;) {
        const answer = (await readLine(io, question, true))?.trim();
        if (answer === undefined) return false;
        const lower = answer.toLowerCase();
        if (lower === 'yes') return true;
        if (lower === 'no') return false;
        if (answer === q.fingerprint) return true;
        question = "Please type 'yes', 'no' or the fingerprint: ";
      }
    } finally {
      io.close?.();
    }
  };
}

/** Ask for a key's passphrase on the terminal without echo. */
export async function ttyPassphrase(
  file: string,
  open: () => PromptIo = openTty,
): Promise<string | undefined> {
  const io = open();
  try {
    return await readLine(io, `Enter passphrase for key '${file}': `, false);
  } finally {
    io.close?.();
  }
}
