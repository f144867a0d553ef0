import type net from 'node:net';

/** Listen on a free port of 127.0.0.1 (test traffic stays on loopback). */
export function listenOnLoopback(server: net.Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The port `server` listens on; `what` names it in the error when it does not. */
export function portOf(server: net.Server, what: string): number {
  const addr = server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error(`${what} is not listening`);
  return addr.port;
}
