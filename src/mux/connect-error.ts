// How a failed connect to the daemon's socket or pipe is told to the user. Node reports what
// the OS said (`connect UNKNOWN \\.\pipe\…`, `connect ETIMEDOUT …`), which names no cause and
// no remedy; these are the cases and what they mean for sshmux.

/** Codes meaning "nobody serves this endpoint now": start a daemon (or report none running). */
const NOT_SERVING = new Set([
  'ENOENT', // no such socket or pipe
  'ECONNREFUSED', // a socket file nobody listens on (a killed daemon's)
  'ENOTSOCK',
  'ECONNRESET',
  'EPIPE',
  // A pipe name still held by a daemon that stopped listening (-O stop with sessions running),
  // or every instance busy past Windows' wait: nothing accepts on it.
  'ETIMEDOUT',
  'EBUSY',
  'EAGAIN',
]);

/** What a connect error means: not serving (start one / say none runs), or a refusal to report. */
export interface ConnectFailure {
  readonly notServing: boolean;
  readonly message: string;
}

/** Classify an error from connecting to `socketPath`; undefined when it is no OS connect error. */
export function classifyConnectError(err: unknown, socketPath: string): ConnectFailure | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$|^UNKNOWN$/.test(code)) return undefined;
  const where = socketPath.startsWith('\\\\') ? `pipe ${socketPath}` : `socket ${socketPath}`;
  if (NOT_SERVING.has(code)) {
    return {
      notServing: true,
      message:
        code === 'ETIMEDOUT' || code === 'EBUSY' || code === 'EAGAIN'
          ? `no sshmux daemon accepts connections on the ${where} (${code}: it exists but nobody listens)`
          : `no sshmux daemon answers on the ${where} (${code})`,
    };
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return {
      notServing: false,
      message: `access to the sshmux daemon's ${where} is denied (${code}): it belongs to another user or program`,
    };
  }
  return {
    notServing: false,
    message: `cannot connect to the sshmux daemon's ${where}: the system reported ${code}, which sshmux does not expect there`,
  };
}
