import ssh2, { type ParsedKey, type SignCallback, type SigningRequestOptions } from 'ssh2';

// ssh2 is CommonJS; Node's ESM loader does not expose all of its exports by name.
const { BaseAgent } = ssh2;

type IdentityCallback = (err: Error | undefined, keys?: ParsedKey[]) => void;
type Signer = (key: ParsedKey, data: Buffer, options: SigningRequestOptions, cb: SignCallback) => void;

/**
 * One identity presented to ssh2 as a one-key agent. ssh2 asks for the key only when it is
 * this identity's turn, so loading (and a passphrase prompt) happens lazily and in order, and
 * a key that cannot be loaded is skipped without failing the connection.
 */
export class OfferedIdentity extends BaseAgent<ParsedKey> {
  readonly #load: () => Promise<ParsedKey | undefined>;
  readonly #sign: Signer;

  constructor(load: () => Promise<ParsedKey | undefined>, sign: Signer) {
    super();
    this.#load = load;
    this.#sign = sign;
  }

  getIdentities(cb: IdentityCallback): void {
    this.#load().then(
      (key) => cb(undefined, key ? [key] : []),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }

  sign(pubKey: ParsedKey, data: Buffer, options: unknown, cb?: SignCallback): void {
    const callback = typeof options === 'function' ? (options as SignCallback) : cb;
    const opts = typeof options === 'object' && options !== null ? (options as SigningRequestOptions) : {};
    if (!callback) return;
    this.#sign(pubKey, data, opts, callback);
  }
}
