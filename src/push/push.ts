import { isSshmuxError, LocalError, type SshmuxError, VerifyError } from '../errors.js';
import type { Logger } from '../logger.js';
import { compareManifests } from '../manifest/compare.js';
import { localScan, sha256File } from '../manifest/local-scan.js';
import { localManifest, type RemoteTree, remoteManifest, resolveRemoteTree } from '../manifest/manifest.js';
import { displayPath, rawIsUtf8, rawToBytes } from '../manifest/raw-path.js';
import { remoteScan } from '../manifest/remote-scan.js';
import type { RemoteRunner } from '../pool/types.js';
import { normalizePushOptions, type PushOptions } from './options.js';
import { type PlannedUpload, partialPathOf, planPush, targetOfPartial } from './plan.js';
import { RateLimiter } from './rate-limiter.js';
import { RemoteOps } from './remote-ops.js';
import { classifyUploadError, type UploadContext, type UploadJob, uploadExec, uploadSftp } from './upload.js';

/** What `push` did. */
export interface PushResult {
  /** Raw relative paths uploaded (including resumed ones). */
  readonly uploaded: string[];
  /** Uploads that continued a leftover temporary file. */
  readonly resumed: string[];
  /** Files whose mode or mtime only were set. */
  readonly attributesSet: string[];
  /** Symbolic links created or updated. */
  readonly symlinks: string[];
  /** Directories created. */
  readonly directoriesCreated: string[];
  /** Remote entries deleted (`delete: true`). */
  readonly deleted: string[];
  /** Files and links already up to date. */
  readonly unchanged: number;
  /** Payload bytes sent (file contents only). */
  readonly bytesSent: number;
  /** True when `verify` ran and held. */
  readonly verified: boolean;
}

function joinRoot(rawRoot: string, rel: string): string {
  if (rawRoot === '.' || rawRoot === '') return rel;
  return rawRoot.endsWith('/') ? `${rawRoot}${rel}` : `${rawRoot}/${rel}`;
}

/**
 * Push a local directory to a remote one over pooled SFTP sessions (exec channels for
 * names that are not UTF-8): create directories, skip unchanged files, write each file
 * to `.name.sshmux-partial` and rename it into place, keep mode and mtime, continue a
 * leftover temporary file, push symlinks as links, delete extraneous entries only with
 * `delete`, and optionally verify both trees by SHA-256 afterwards.
 */
export async function push(
  runner: RemoteRunner,
  localDir: string | Buffer,
  tree: RemoteTree,
  options: PushOptions = {},
): Promise<PushResult> {
  const opts = normalizePushOptions(options);
  const { dest, rawPath: rawRoot } = resolveRemoteTree(tree);
  const destination = typeof dest === 'string' ? dest : `${dest.user}@${dest.hostname}:${dest.port}`;
  const log: Logger | undefined = opts.logger?.child({ push: destination });
  const localRoot = Buffer.isBuffer(localDir) ? localDir : Buffer.from(localDir, 'utf8');
  const inner = new AbortController();
  const onAbort = () => inner.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    opts.signal?.throwIfAborted();
    const ops = new RemoteOps(runner, dest, rawRoot, inner.signal);
    await ops.ensureRoot();
    const [local, remote] = await Promise.all([
      localScan(localRoot, { hash: opts.checksum, concurrency: opts.concurrency, signal: inner.signal }),
      remoteScan(runner, dest, rawRoot, {
        hash: opts.checksum,
        signal: inner.signal,
        ...(log && { logger: log }),
      }),
    ]);
    const plan = planPush(local, remote, { checksum: opts.checksum, delete: opts.delete });
    log?.info(
      {
        uploads: plan.uploads.length,
        mkdirs: plan.mkdirs.length,
        symlinks: plan.symlinks.length,
        deletes: plan.deletes.length,
        unchanged: plan.unchanged,
      },
      'push plan',
    );
    await ops.remove(plan.replace);
    await ops.mkdirs(plan.mkdirs.map((d) => d.path));

    const bytesTotal = plan.uploads.reduce((n, u) => n + u.file.size, 0);
    const progress = {
      filesTotal: plan.uploads.length,
      filesDone: 0,
      bytesTotal,
      bytesDone: 0,
      bytesSent: 0,
    };
    const report = (path?: string) =>
      opts.onProgress?.({
        filesTotal: progress.filesTotal,
        filesDone: progress.filesDone,
        bytesTotal: progress.bytesTotal,
        bytesDone: progress.bytesDone,
        ...(path !== undefined && { path }),
      });
    const ctx: UploadContext = {
      runner,
      dest,
      destination,
      ops,
      limiter: opts.rateLimit === undefined ? undefined : new RateLimiter(opts.rateLimit),
      signal: inner.signal,
      onBytes: (n) => {
        progress.bytesDone += n;
        progress.bytesSent += n;
        report();
      },
    };

    const uploaded: string[] = [];
    const resumed: string[] = [];
    const localFailures: LocalError[] = [];
    let fatal: SshmuxError | undefined;
    const queue = [...plan.uploads];

    const startOf = async (u: PlannedUpload, localPath: Buffer): Promise<number> => {
      if (u.partialSize === undefined || u.partialSize === 0) return 0;
      const [mine, theirs] = await Promise.all([
        sha256File(localPath, { end: u.partialSize, signal: inner.signal }),
        ops.sha256Prefix(partialPathOf(u.path), u.partialSize),
      ]);
      if (mine !== theirs)
        log?.info({ path: displayPath(u.path) }, 'leftover temporary file differs: starting over');
      return mine === theirs ? u.partialSize : 0;
    };

    const worker = async (): Promise<void> => {
      let lease: Awaited<ReturnType<RemoteRunner['sftp']>> | undefined;
      try {
        for (let u = queue.shift(); u !== undefined && fatal === undefined; u = queue.shift()) {
          const localPath = Buffer.concat([localRoot, Buffer.from('/'), rawToBytes(u.path)]);
          try {
            const start = await startOf(u, localPath);
            const job: UploadJob = {
              rel: u.path,
              localPath,
              remotePath: joinRoot(rawRoot, u.path),
              remoteTmp: joinRoot(rawRoot, partialPathOf(u.path)),
              relTmp: partialPathOf(u.path),
              file: u.file,
              start,
            };
            progress.bytesDone += start;
            if (opts.transport === 'sftp' && rawIsUtf8(job.remoteTmp)) {
              lease ??= await runner.sftp(dest, { signal: inner.signal });
              await uploadSftp(lease.sftp, job, ctx);
            } else {
              await uploadExec(job, ctx);
            }
            uploaded.push(u.path);
            if (start > 0) resumed.push(u.path);
            progress.filesDone++;
            report(u.path);
          } catch (err) {
            const e = isSshmuxError(err) ? err : classifyUploadError(err, ctx, u.path);
            if (e.kind === 'local' && !inner.signal.aborted) {
              localFailures.push(e as LocalError);
              continue;
            }
            fatal ??= e;
            inner.abort(e);
          }
        }
      } finally {
        await lease?.close().catch(() => {});
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, Math.max(1, queue.length)) }, worker));
    if (fatal) throw fatal;

    await ops.setAttributes(
      plan.attributes.map((a) => ({ path: a.path, mode: a.file.mode, mtime: a.file.mtime })),
    );
    await ops.symlinks(plan.symlinks);
    // Directory modes last, so a read-only directory does not block what goes inside it.
    await ops.chmod(plan.mkdirs);
    await ops.remove(plan.deletes);

    let verified = false;
    if (opts.verify) {
      await verifyPush(runner, localRoot, { dest, path: rawToBytes(rawRoot) }, opts.delete, inner.signal);
      verified = true;
    }
    const failures = [
      ...localFailures.map((e) => e.message),
      ...[...plan.localErrors].map(([p, m]) => `${displayPath(p)}: ${m}`),
    ];
    if (failures.length > 0) {
      throw new LocalError(
        `${failures.length} local file(s) could not be pushed:\n${failures.slice(0, 20).join('\n')}`,
        {
          cause: localFailures[0],
        },
      );
    }
    return {
      uploaded,
      resumed,
      attributesSet: plan.attributes.map((a) => a.path),
      symlinks: plan.symlinks.map((s) => s.path),
      directoriesCreated: plan.mkdirs.map((d) => d.path),
      deleted: plan.deletes,
      unchanged: plan.unchanged,
      bytesSent: progress.bytesSent,
      verified,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Compare local and remote by SHA-256; extra remote entries count only with `delete`. */
async function verifyPush(
  runner: RemoteRunner,
  localRoot: Buffer,
  tree: RemoteTree,
  deleted: boolean,
  signal: AbortSignal,
): Promise<void> {
  const [mine, theirs] = await Promise.all([
    localManifest(localRoot, { signal }),
    remoteManifest(runner, tree, { signal }),
  ]);
  const c = compareManifests(mine, theirs);
  const extra = deleted ? c.extra.filter((p) => targetOfPartial(p) === undefined) : [];
  const bad = [...c.missing, ...c.mismatched, ...extra];
  if (bad.length > 0) {
    throw new VerifyError(
      `Verification after push failed for ${bad.length} path(s): ${bad.slice(0, 20).map(displayPath).join(', ')}`,
    );
  }
}
