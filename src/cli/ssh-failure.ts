import { isSshConfigError, sshErrorText } from '../config/ssh-error.js';
import { CONNECT_FAILED } from '../connection/tcp-socket.js';
import { type ConfigError, isSshmuxError } from '../errors.js';
import { sessionErrorText } from './session-request.js';
import { FORWARD_FAILED } from './ssh-forwarding.js';

/**
 * What `sshmux ssh` (and scp/sftp, which open their session the same way) print for a run that
 * failed, as ssh prints it: its configuration messages, sshconnect.c's connect and resolve lines
 * (`ssh: connect to host H port P: …`, hidden by -q and LogLevel QUIET/FATAL: `errorsShown`),
 * its session refusals, else sshmux's own message. '' when ssh would print nothing.
 */
export function sshFailureText(err: unknown, quiet: boolean, errorsShown = !quiet): string {
  if (isSshmuxError(err) && (err.code === CONNECT_FAILED || err.code === 'SSHMUX_ERR_RESOLVE')) {
    return errorsShown ? `ssh: ${err.message}\r\n` : '';
  }
  // ssh's own lines were printed where the forward failed.
  if (isSshmuxError(err) && err.code === FORWARD_FAILED) return '';
  if (isSshConfigError(err)) return sshErrorText(err as ConfigError, quiet) ?? '';
  if (quiet) return '';
  return sessionErrorText(err) ?? `sshmux: ${isSshmuxError(err) ? err.message : String(err)}\n`;
}
