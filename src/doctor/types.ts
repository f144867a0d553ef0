/** What one line of `sshmux doctor` found. */
export type DoctorStatus = 'ok' | 'warn' | 'fail';

/** The part of the set-up a check looks at, in the order the report prints them. */
export type DoctorSection = 'system' | 'daemon' | 'agent' | 'config' | 'keys' | 'known-hosts' | 'connection';

/** One line of the report: what was found, and what to do when it is not ok. */
export interface DoctorCheck {
  /** Which part of the report it belongs to. */
  readonly section: DoctorSection;
  /** Stable identifier (`node`, `native-crypto`, `daemon`, `config.hostname`, `key`, `exec`…). */
  readonly id: string;
  /** ok, warn or fail. */
  readonly status: DoctorStatus;
  /** One line: what was found. */
  readonly summary: string;
  /** What to do about it; set for every `warn` and `fail`. */
  readonly advice?: string | undefined;
  /** Machine-readable details (paths, counts, fingerprints, origins) for `--json`. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The whole report: `ok` is false when any check failed (the CLI then exits 1). */
export interface DoctorReport {
  /** The destination as given, when one was. */
  readonly destination: string | undefined;
  /** Every check, in section order. */
  readonly checks: readonly DoctorCheck[];
  /** False when any check failed. */
  readonly ok: boolean;
}

/** Builds a check, freezing it. */
export function check(c: DoctorCheck): DoctorCheck {
  return Object.freeze({ ...c, ...(c.data && { data: Object.freeze({ ...c.data }) }) });
}
