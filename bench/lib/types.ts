import type { LinkProfile } from '../../test/helpers/link-emulator.js';
import type { StartedSshd } from '../../test/helpers/sshd.js';
import type { Endpoint, LinkProcess } from './endpoint.js';
import type { OpenSsh } from './openssh.js';
import type { Sshmux } from './sshmux.js';

/** Whether a smaller or a larger number means faster/leaner. */
export type Better = 'lower' | 'higher';

/** One side (sshmux or OpenSSH) of a row. */
export interface SideResult {
  /** What ran, e.g. `SshPool.exec` or `ssh -S (ControlMaster client)`. */
  label: string;
  /** One value per round, in the row's unit. */
  values: number[];
  /** Set instead of values when this side was not run, with the reason. */
  notMeasured?: string;
  /** Successful operations per round, e.g. `50/50`. */
  successes?: string[];
  /** New sshd logins per round (from the sshd log). */
  logins?: number[];
  /** CPU seconds (user+sys) the client process spent per GiB moved, per round (stream rows). */
  cpuPerGiB?: number[];
  /** Anything else worth a footnote (errors seen, RSS at the checkpoints…). */
  note?: string;
}

export interface Target {
  text: string;
  /** null when it could not be judged (a side not measured). */
  met: boolean | null;
}

export interface Row {
  id: string;
  /** The scenario heading (rows of one scenario share it). */
  group: string;
  title: string;
  unit: string;
  better: Better;
  sshmux: SideResult;
  openssh: SideResult;
  /** Median of per-round sshmux/OpenSSH ratios. */
  ratio: number | null;
  target?: Target;
}

export interface Sizes {
  rounds: number;
  heavyRounds: number;
  latencyCommands: number;
  cliCommands: number;
  bursts: number[];
  connectIterations: number;
  streamBytes: number;
  btrfsBytes: number;
  btrfsIncrementBytes: number;
  manifestFiles: number;
  manifestBytes: number;
  clones: number;
  rssBytes: number;
  rssCheckpoint: number;
  /** One file for the download row (`download` vs `sftp -b` get). */
  downloadBytes: number;
  /** The push rows: a tree of many small files, and one big file. */
  pushSmallFiles: number;
  pushSmallBytes: number;
  pushBigBytes: number;
  /** The past-the-window row (WAN profile): one btrfs stream over the wide link. */
  wideBytes: number;
}

export interface Ctx {
  sshd: StartedSshd;
  /** Where both clients connect: the sshd, or (WAN profile) the link emulator in front of it. */
  endpoint: Endpoint;
  /** The WAN profile's link emulator; every side of every round must move bytes through it. */
  link?: LinkProcess;
  /** The past-the-window row's link (`--wide-rtt`, `--wide-mbit`): RTT 100 ms, 1000 Mbit/s by default. */
  wide: LinkProfile;
  quick: boolean;
  sizes: Sizes;
  /** Scratch directory on the host (removed at the end). */
  tmp: string;
  openssh: OpenSsh;
  sshmux: Sshmux;
  ciphers: readonly string[];
  log(message: string): void;
}

export type Scenario = (ctx: Ctx) => Promise<Row[]>;
