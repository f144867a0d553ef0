/**
 * The effective options while reading configuration: OpenSSH's "first obtained value wins",
 * except for the accumulating keywords, which append. Keys are lowercase keywords.
 */
export class OptionStore {
  readonly #values = new Map<string, string[]>();
  /** Keywords sshmux does not know, in the order first seen (printed after the known ones). */
  readonly #unknown: string[] = [];

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
    return true;
  }

  /** Set regardless (command-line flags such as -p and -4 that ssh assigns directly). */
  force(keyword: string, values: readonly string[]): void {
    this.#values.set(keyword, [...values]);
  }

  append(keyword: string, values: readonly string[]): void {
    const list = this.#values.get(keyword) ?? [];
    list.push(...values);
    this.#values.set(keyword, list);
  }

  replace(keyword: string, values: readonly string[]): void {
    if (values.length === 0) this.#values.delete(keyword);
    else this.#values.set(keyword, [...values]);
  }

  setUnknown(keyword: string, value: string): void {
    if (this.#values.has(keyword)) return;
    this.#unknown.push(keyword);
    this.#values.set(keyword, [value]);
  }

  unknownKeywords(): readonly string[] {
    return this.#unknown;
  }

  /** A frozen copy for the HostConfig. */
  snapshot(): ReadonlyMap<string, readonly string[]> {
    return new Map([...this.#values].map(([k, v]) => [k, Object.freeze([...v])]));
  }
}
