/**
 * The effective options while reading configuration: OpenSSH's "first obtained value wins",
 * except for the accumulating keywords, which append. Keys are lowercase keywords.
 */
export class OptionStore {
  readonly #values = new Map<string, string[]>();
  /** Keywords sshmux does not know, in the order first seen (printed after the known ones). */
  readonly #unknown: string[] = [];
  /** Where each value came from, parallel to the values (see `origin`). */
  readonly #origins = new Map<string, string[]>();
  /**
   * Where the values being applied now come from (`file:line`, `-o`, `-p`, `destination`…),
   * set by the reader before each line; recorded with every value stored, for `sshmux doctor`.
   */
  origin = 'command line';

  has(keyword: string): boolean {
    return this.#values.has(keyword);
  }

  get(keyword: string): readonly string[] | undefined {
    return this.#values.get(keyword);
  }

  first(keyword: string): string | undefined {
    return this.#values.get(keyword)?.[0];
  }

  /** Set unless already set; returns whether it was set. */
  setFirst(keyword: string, values: readonly string[]): boolean {
    if (this.#values.has(keyword)) return false;
    this.#values.set(keyword, [...values]);
    this.#origins.set(
      keyword,
      values.map(() => this.origin),
    );
    return true;
  }

  /** Set regardless (command-line flags such as -p and -4 that ssh assigns directly). */
  force(keyword: string, values: readonly string[]): void {
    this.#values.set(keyword, [...values]);
    this.#origins.set(
      keyword,
      values.map(() => this.origin),
    );
  }

  append(keyword: string, values: readonly string[]): void {
    const list = this.#values.get(keyword) ?? [];
    list.push(...values);
    this.#values.set(keyword, list);
    this.#origins.set(keyword, [...(this.#origins.get(keyword) ?? []), ...values.map(() => this.origin)]);
  }

  /** Replace with a subset of the current values (SendEnv's `-pattern`): each keeps its origin. */
  replace(keyword: string, values: readonly string[]): void {
    const old = this.#values.get(keyword) ?? [];
    const oldOrigins = this.#origins.get(keyword) ?? [];
    if (values.length === 0) {
      this.#values.delete(keyword);
      this.#origins.delete(keyword);
      return;
    }
    this.#values.set(keyword, [...values]);
    this.#origins.set(
      keyword,
      values.map((v) => oldOrigins[old.indexOf(v)] ?? this.origin),
    );
  }

  setUnknown(keyword: string, value: string): void {
    if (this.#values.has(keyword)) return;
    this.#unknown.push(keyword);
    this.#values.set(keyword, [value]);
    this.#origins.set(keyword, [this.origin]);
  }

  unknownKeywords(): readonly string[] {
    return this.#unknown;
  }

  /** Where each stored value came from, parallel to `snapshot()`'s values; frozen. */
  origins(): ReadonlyMap<string, readonly string[]> {
    return new Map([...this.#origins].map(([k, v]) => [k, Object.freeze([...v])]));
  }

  /** A frozen copy for the HostConfig. */
  snapshot(): ReadonlyMap<string, readonly string[]> {
    return new Map([...this.#values].map(([k, v]) => [k, Object.freeze([...v])]));
  }
}
