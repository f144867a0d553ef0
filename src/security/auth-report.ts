/** What one connect attempt offered and skipped, kept for the error when every method fails. */
export interface AuthReport {
  readonly tried: string[];
  readonly notes: string[];
  started: boolean;
  /** The server's last list when no method was left: ssh's "Permission denied (list)." */
  denied?: string;
  /** A password or keyboard-interactive turn came and nobody could be asked. */
  promptNeeded?: boolean;
  /** A prompt or key load that must stop the connect (Ctrl-C). */
  error?: unknown;
  /** An agent key was signed with and the handler was called again: partial success. */
  agentSigned?: boolean;
  readonly user: string;
  readonly host: string;
}
