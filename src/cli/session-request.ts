import { isSshmuxError } from '../errors.js';
import type { SessionKind } from '../pool/types.js';
import type { SessionPlan } from './session-options.js';

/** What `sshmux ssh` asks for: a session channel of some kind, or none at all (-N). */
export type RequestKind = SessionKind | 'none';

/**
 * The session ssh.c opens: none for SessionType none; a subsystem named by the command for
 * SessionType subsystem (with no name ssh sends a shell request, as clientloop.c does); else exec.
 */
export function requestKind(plan: Pick<SessionPlan, 'sessionType' | 'command'>): RequestKind {
  if (plan.sessionType === 'none') return 'none';
  if (plan.sessionType === 'subsystem' && plan.command !== '') return 'subsystem';
  return plan.command === '' ? 'shell' : 'exec';
}

/**
 * ssh's own words for a session request the server refused (clientloop.c, CONFIRM_CLOSE): its
 * session is always its first channel, 0. Undefined for every other error.
 */
export function sessionErrorText(err: unknown): string | undefined {
  if (isSshmuxError(err) && err.code === 'SSHMUX_ERR_SUBSYSTEM')
    return 'subsystem request failed on channel 0\r\n';
  return undefined;
}
