import type { AuthSettings } from '../config/auth-options.js';

/** One authentication method sshmux can run; `attempt` answers what to send, or undefined when spent. */
export interface MethodRunner<A> {
  /** The next request for this method (next key, next password prompt), or undefined: nothing left. */
  attempt(): Promise<A | undefined>;
  /** After partial success ssh starts this method's state afresh (all keys may be offered again). */
  reset?(): void;
}

/** What the sequence decided: a request to send, or ssh's "Permission denied (list)." */
export type NextStep<A> = { send: A } | { denied: string };

/**
 * The client side of SSH user authentication as OpenSSH 9.2's sshconnect2.c runs it: a method is
 * chosen from PreferredAuthentications, in that order, among those the server says can continue
 * and the configuration enables (BatchMode disables the interactive ones). A method keeps its
 * turn while it has something to send; one that has nothing left is disabled for the connection.
 * A different server list starts the preference walk over, which is how partial success moves
 * on to the second factor.
 */
export class AuthSequence<A> {
  readonly #settings: AuthSettings;
  readonly #batchMode: boolean;
  readonly #runners: ReadonlyMap<string, MethodRunner<A>>;
  readonly #disabled = new Set<string>();
  #supported: string | undefined;
  #cursor = 0;
  #current: string | undefined;
  /** The method whose request is in flight (for logs and "partial success" notes). */
  active: string | undefined;

  constructor(settings: AuthSettings, batchMode: boolean, runners: ReadonlyMap<string, MethodRunner<A>>) {
    this.#settings = settings;
    this.#batchMode = batchMode;
    this.#runners = runners;
  }

  /** Whether ssh would use `name` at all with these settings (its method table's enabled flags). */
  enabled(name: string): boolean {
    if (this.#disabled.has(name) || !this.#runners.has(name)) return false;
    const s = this.#settings;
    switch (name) {
      case 'publickey':
        return s.pubkey;
      case 'password':
        return s.password && !this.#batchMode;
      case 'keyboard-interactive':
        return s.kbdInteractive && !this.#batchMode;
      case 'hostbased':
        return s.hostbased;
      case 'gssapi-with-mic':
        return s.gssapi;
      default:
        return false;
    }
  }

  /**
   * Called with the server's "authentications that can continue" after each failure; `partial`
   * is the server's partial-success flag.
   */
  async next(methodsLeft: readonly string[], partial: boolean): Promise<NextStep<A>> {
    if (partial) for (const r of this.#runners.values()) r.reset?.();
    // An empty list from the server means "anything": ssh falls back to its preference list.
    const authlist = methodsLeft.length > 0 ? methodsLeft.join(',') : this.#settings.preferred.join(',');
    for (;;) {
      const name = this.#pick(authlist);
      if (name === undefined) {
        this.active = undefined;
        return { denied: methodsLeft.join(',') };
      }
      const request = await this.#runners.get(name)!.attempt();
      if (request !== undefined) {
        this.active = name;
        return { send: request };
      }
      this.#disabled.add(name);
    }
  }

  #pick(authlist: string): string | undefined {
    const supported = authlist.split(',');
    if (authlist !== this.#supported) {
      this.#supported = authlist;
      this.#cursor = 0;
      this.#current = undefined;
    } else if (this.#current !== undefined && this.enabled(this.#current)) {
      return this.#current;
    }
    const preferred = this.#settings.preferred;
    while (this.#cursor < preferred.length) {
      const name = preferred[this.#cursor++]!;
      if (supported.includes(name) && this.enabled(name)) {
        this.#current = name;
        return name;
      }
    }
    this.#current = undefined;
    return undefined;
  }
}
