import { type ErrorKind, SshmuxError, type SshmuxErrorOptions } from '../errors.js';

/** Exit status and stderr of one end of a transfer. */
export interface TransferSide {
  /** `local` or the destination. */
  host: string;
  /** `send` or `receive`. */
  role: 'send' | 'receive';
  /** Its exit status, or null when killed by a signal. */
  exitCode: number | null;
  /** The signal that killed it, without `SIG`, or null. */
  signal: string | null;
  /** What it wrote on stderr. */
  stderr: string;
}

function describe(side: TransferSide): string {
  const status =
    side.signal !== null
      ? `killed by ${side.signal}`
      : side.exitCode === null
        ? 'no exit status'
        : `exit ${side.exitCode}`;
  const tail = side.stderr.trim().split('\n').slice(-5).join('\n    ');
  return `  ${side.role} (${side.host}): ${status}${tail ? `\n    ${tail}` : ''}`;
}

/** A btrfs transfer failed: carries both ends' status and stderr, and what cleanup did. */
export class BtrfsTransferError extends SshmuxError {
  /** How `btrfs send` ended. */
  readonly sender: TransferSide;
  /** How `btrfs receive` ended. */
  readonly receiver: TransferSide;
  /** What happened to the partial subvolume at the destination. */
  readonly cleanup: string;
  /** Stream bytes that passed before the failure. */
  readonly bytes: number;

  constructor(
    kind: ErrorKind,
    summary: string,
    init: { sender: TransferSide; receiver: TransferSide; cleanup: string; bytes: number },
    options: SshmuxErrorOptions = {},
  ) {
    super(
      kind,
      `${summary} after ${init.bytes} bytes\n${describe(init.sender)}\n${describe(init.receiver)}\n  cleanup: ${init.cleanup}`,
      { code: 'SSHMUX_ERR_BTRFS_TRANSFER', ...options },
    );
    this.sender = init.sender;
    this.receiver = init.receiver;
    this.cleanup = init.cleanup;
    this.bytes = init.bytes;
  }
}
