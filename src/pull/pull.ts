import { RemoteError, VerifyError } from '../errors.js';
import { compareManifests } from '../manifest/compare.js';
import { localScan } from '../manifest/local-scan.js';
import { localManifest, type RemoteTree, remoteManifest, resolveRemoteTree } from '../manifest/manifest.js';
import { displayPath, rawToBytes } from '../manifest/raw-path.js';
import { remoteScan } from '../manifest/remote-scan.js';
import type { RemoteRunner } from '../pool/types.js';
import { planPush, targetOfPartial } from '../push/plan.js';
import { getFile } from '../transfer/get-file.js';
import { normalizeTransferOptions } from '../transfer/transfer-options.js';
import { XferSession } from '../transfer/xfer-session.js';
import { LocalOps } from './local-ops.js';
import { normalizePullOptions, type PullOptions } from './options.js';

/** What `pull` did, entry by entry (paths raw and relative to the pulled directory). */
export interface PullResult {
  /** Raw relative paths downloaded (including resumed ones). */
  readonly downloaded: string[];
  /** Downloads that continued a leftover `.NAME.sshmux-partial`. */
  readonly resumed: string[];
  /** Files whose mode or mtime only were set. */
  readonly attributesSet: string[];
  /** Symbolic links created or replaced here. */
  readonly symlinks: string[];
  /** Local directories created. */
  readonly directoriesCreated: string[];
  /** Local entries removed because the remote does not have them (only with `delete`). */
  readonly deleted: string[];
  /** Files and links already up to date. */
  readonly unchanged: number;
  /** Payload bytes received (file contents only). */
  readonly bytesReceived: number;
  /** True when `verify` ran and held. */
  readonly verified: boolean;
}

const joinRoot = (rawRoot: string, rel: string) =>
  rawRoot === '.' || rawRoot === '' ? rel : rawRoot.endsWith('/') ? `${rawRoot}${rel}` : `${rawRoot}/${rel}`;

/**
 * Pull a remote directory into a local one, the mirror of `push`: scan both sides, download
 * only what differs (size and mtime, or SHA-256 with `checksum`) over one SFTP session with
 * `concurrency` files in flight, each into `.NAME.sshmux-partial` renamed into place, keep mode
 * and mtime, continue a leftover temporary file, recreate symlinks as links, delete extraneous
 * local entries only with `delete`, and optionally verify both trees by SHA-256 afterwards.
 */
export async function pull(
  runner: RemoteRunner,
  tree: RemoteTree,
  localDir: string | Buffer,
  options: PullOptions = {},
): Promise<PullResult> {
  const opts = normalizePullOptions(options);
  const { dest, rawPath: rawRoot } = resolveRemoteTree(tree);
  const localRoot = Buffer.isBuffer(localDir) ? localDir : Buffer.from(localDir, 'utf8');
  const local = new LocalOps(localRoot);
  opts.signal?.throwIfAborted();
  await local.ensureRoot();
  const [theirs, mine] = await Promise.all([
    remoteScan(runner, dest, rawRoot, {
      hash: opts.checksum,
      ...(opts.signal && { signal: opts.signal }),
      ...(opts.logger && { logger: opts.logger }),
    }),
    localScan(localRoot, {
      hash: opts.checksum,
      concurrency: opts.concurrency,
      ...(opts.signal && { signal: opts.signal }),
    }),
  ]);
  // The remote is the source here: push's planner with the sides swapped.
  const plan = planPush(theirs, mine, { checksum: opts.checksum, delete: opts.delete });
  await local.remove(plan.replace);
  await local.mkdirs(plan.mkdirs.map((d) => d.path));

  const downloaded: string[] = [];
  const resumed: string[] = [];
  let bytesReceived = 0;
  if (plan.uploads.length > 0) {
    const transfer = normalizeTransferOptions({
      preserve: true,
      resume: true,
      concurrency: opts.concurrency,
      ...(opts.rateLimit !== undefined && { rateLimit: opts.rateLimit }),
      ...(opts.onProgress && { onProgress: opts.onProgress }),
      ...(opts.signal && { signal: opts.signal }),
      ...(opts.logger && { logger: opts.logger }),
    });
    const s = await XferSession.open(runner, dest, transfer);
    s.counters.filesTotal = plan.uploads.length;
    s.counters.bytesTotal = plan.uploads.reduce((n, u) => n + u.file.size, 0);
    const queue = [...plan.uploads];
    let failure: unknown;
    const worker = async () => {
      for (let u = queue.shift(); u !== undefined && failure === undefined; u = queue.shift()) {
        try {
          const { start } = await getFile(s.ctx, rawToBytes(joinRoot(rawRoot, u.path)), local.path(u.path), {
            size: BigInt(u.file.size),
            mode: 0o100000 | u.file.mode,
            atime: u.file.mtime,
            mtime: u.file.mtime,
          });
          downloaded.push(u.path);
          if (start > 0) resumed.push(u.path);
          s.counters.filesDone++;
          s.report(rawToBytes(u.path));
        } catch (err) {
          failure ??= err;
          s.fail(err);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(opts.concurrency, queue.length) }, worker));
      if (failure !== undefined) throw failure;
      await s.finish();
    } catch (err) {
      await s.finish(err);
      throw s.errorOf(err);
    }
    bytesReceived = s.counters.bytesTransferred;
  }

  await local.setAttributes(
    plan.attributes.map((a) => ({ path: a.path, mode: a.file.mode, mtime: a.file.mtime })),
  );
  await local.symlinks(plan.symlinks);
  // Directory modes last, so a read-only directory does not block what goes inside it.
  await local.chmod(plan.mkdirs);
  await local.remove(plan.deletes);

  let verified = false;
  if (opts.verify) {
    await verifyPull(runner, { dest, path: rawToBytes(rawRoot) }, localRoot, opts.delete, opts.signal);
    verified = true;
  }
  if (plan.localErrors.size > 0) {
    const lines = [...plan.localErrors].map(([p, m]) => `${displayPath(p)}: ${m}`);
    throw new RemoteError(
      `${lines.length} remote file(s) could not be pulled:\n${lines.slice(0, 20).join('\n')}`,
      typeof dest === 'string' ? { destination: dest } : { destination: dest.originalHost },
    );
  }
  return {
    downloaded,
    resumed,
    attributesSet: plan.attributes.map((a) => a.path),
    symlinks: plan.symlinks.map((l) => l.path),
    directoriesCreated: plan.mkdirs.map((d) => d.path),
    deleted: plan.deletes,
    unchanged: plan.unchanged,
    bytesReceived,
    verified,
  };
}

/** Compare remote and local by SHA-256; extra local entries count only with `delete`. */
async function verifyPull(
  runner: RemoteRunner,
  tree: RemoteTree,
  localRoot: Buffer,
  deleted: boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  const opts = signal ? { signal } : {};
  const [theirs, mine] = await Promise.all([
    remoteManifest(runner, tree, opts),
    localManifest(localRoot, opts),
  ]);
  const c = compareManifests(theirs, mine);
  const extra = deleted ? c.extra.filter((p) => targetOfPartial(p) === undefined) : [];
  const bad = [...c.missing, ...c.mismatched, ...extra];
  if (bad.length > 0) {
    throw new VerifyError(
      `Verification after pull failed for ${bad.length} path(s): ${bad.slice(0, 20).map(displayPath).join(', ')}`,
    );
  }
}
