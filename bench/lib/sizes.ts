import { GiB, MiB } from './stats.js';
import type { Sizes } from './types.js';

// Full sizes follow the brief except btrfs and the manifest tree: 1 GiB instead of 2 GiB, so a
// full run stays near 15 minutes on a 2-core VM (both are disk/hash bound: the ratio, not the
// size, is the result). Streams stay 2 GiB and the RSS run 4 GiB, where size is the point.
export const FULL: Sizes = {
  rounds: 5,
  heavyRounds: 3,
  latencyCommands: 200,
  cliCommands: 50,
  bursts: [50, 200],
  connectIterations: 10,
  streamBytes: 2 * GiB,
  btrfsBytes: 1 * GiB,
  btrfsIncrementBytes: 256 * MiB,
  manifestFiles: 10_000,
  manifestBytes: 1 * GiB,
  clones: 30,
  rssBytes: 4 * GiB,
  rssCheckpoint: 1 * GiB,
  downloadBytes: 1 * GiB,
  pushSmallFiles: 10_000,
  pushSmallBytes: 40 * MiB,
  pushBigBytes: 1 * GiB,
  wideBytes: 1 * GiB,
};

export const QUICK: Sizes = {
  rounds: 2,
  heavyRounds: 2,
  latencyCommands: 50,
  cliCommands: 10,
  bursts: [50],
  connectIterations: 3,
  streamBytes: 256 * MiB,
  btrfsBytes: 256 * MiB,
  btrfsIncrementBytes: 32 * MiB,
  manifestFiles: 1_000,
  manifestBytes: 128 * MiB,
  clones: 5,
  rssBytes: 1 * GiB,
  rssCheckpoint: 256 * MiB,
  downloadBytes: 64 * MiB,
  pushSmallFiles: 1_000,
  pushSmallBytes: 4 * MiB,
  pushBigBytes: 64 * MiB,
  wideBytes: 256 * MiB,
};

// The WAN section: the rows and sizes (burst 200, 30 clones, 10,000 small files, 1 GiB
// push and btrfs full, 16 MiB incremental). At 100 Mbit/s one GiB takes ≥ 86 s per side and
// round, so bulk rows get 2 rounds and command rows 3 (see bench/README.md for the time).
export const WAN_FULL: Sizes = {
  ...FULL,
  rounds: 3,
  heavyRounds: 2,
  latencyCommands: 50,
  bursts: [200],
  connectIterations: 5,
  btrfsBytes: 1 * GiB,
  btrfsIncrementBytes: 16 * MiB,
  manifestFiles: 10_000,
  manifestBytes: 1 * GiB,
  clones: 30,
};

// Quick WAN: every row, sizes cut ~16×, so `--quick --wan` stays a few minutes.
export const WAN_QUICK: Sizes = {
  ...QUICK,
  rounds: 2,
  heavyRounds: 2,
  latencyCommands: 10,
  bursts: [50],
  connectIterations: 2,
  btrfsBytes: 64 * MiB,
  btrfsIncrementBytes: 16 * MiB,
  manifestFiles: 1_000,
  manifestBytes: 64 * MiB,
  clones: 5,
  pushSmallFiles: 500,
  pushSmallBytes: 2 * MiB,
  pushBigBytes: 64 * MiB,
  wideBytes: 256 * MiB,
};
