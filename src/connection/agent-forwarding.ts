import type { Duplex } from 'node:stream';
import type { Client, ClientChannel, ExecOptions } from 'ssh2';

/** Opens a stream to the agent that a forwarded auth-agent@openssh.com channel should reach. */
export type AgentOpener = () => Promise<Duplex>;

/** Session options with agent forwarding: the pty, env and, for this session, the agent to forward. */
export type SessionChannelOptions = ExecOptions & {
  /** Forward this agent to the session (auth-agent-req@openssh.com). */
  agent?: AgentOpener;
};

/** What ssh2 keeps per client for agent forwarding (private fields; see client.js). */
interface AgentFields {
  _agent?: { getStream(cb: (err: Error | undefined, stream?: Duplex) => void): void };
  _agentFwdEnabled?: boolean;
}

/** ssh2's message when the server answers auth-agent-req with a failure. */
const REFUSED = 'Unable to request agent forwarding';

/**
 * Open a session that forwards the agent, as ssh does: auth-agent-req@openssh.com on this very
 * channel (ssh2 sends it only for a connection's first session, so it is re-armed for each), and
 * agent channels the server opens on this connection reach `agent`. A server that refuses
 * agent forwarding (AllowAgentForwarding no) gets the session without it, as with ssh.
 * The server cannot say which session an agent channel belongs to: every session on the
 * connection shares the agent, so sessions that forward one get a connection of their own.
 */
export async function openWithAgent(
  client: Client,
  agent: AgentOpener,
  open: (options: ExecOptions) => Promise<ClientChannel>,
): Promise<ClientChannel> {
  const fields = client as unknown as AgentFields;
  fields._agent = {
    getStream: (cb) => {
      agent().then(
        (stream) => cb(undefined, stream),
        (err: Error) => cb(err),
      );
    },
  };
  fields._agentFwdEnabled = false;
  try {
    // ssh2 reads `agentForward` on exec and shell options; its typings lack it.
    return await open({ agentForward: true } as ExecOptions);
  } catch (err) {
    if (!String((err as { cause?: Error }).cause?.message ?? (err as Error).message).includes(REFUSED))
      throw err;
    return open({});
  }
}
