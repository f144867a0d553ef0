import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortedError, type ErrorKind, isSshmuxError, TimeoutError, translateError } from '../errors.js';
import type { BtrfsHost, HostProcess } from './host.js';
import { type ProgressEvent, ProgressMeter } from './progress-meter.js';
import { RateLimitStream } from './rate-limit.js';
import { parseDigest, StreamHash, stripDigest } from './stream-digest.js';
import type { TransferSide } from './transfer-error.js';

/** Everything one stream needs: who sends, who receives, how, and the limits. */
export interface TransferPlan {
  sender: BtrfsHost;
  senderStages: readonly (readonly string[])[];
  receiver: BtrfsHost;
  receiverStages: readonly (readonly string[])[];
  /** Which bytes each end's local pipeline digests in this process (remote ends digest in their stages). */
  senderDigest?: 'output';
  receiverDigest?: 'input';
  /** Digest the bytes piped into the receiver here: a local receiver whose only stage is btrfs receive. */
  digestPipe?: boolean;
  rateLimit: number | null;
  onProgress: ((event: ProgressEvent) => void) | undefined;
  progressInterval: number;
  /** The estimated stream size, or its promise (the estimate may come after the first bytes). */
  total: number | null | Promise<number | null>;
  stallTimeout: number;
  signal: AbortSignal | undefined;
}

/** A transfer that did not complete: the kind, both ends, and the error that decided it. */
export class TransferFailure extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly summary: string,
    readonly sender: TransferSide,
    readonly receiver: TransferSide,
    readonly bytes: number,
    override readonly cause: unknown,
    /** The digests known despite the failure (a local end's, or what a remote end printed). */
    readonly digests: Digests,
  ) {
    super(summary);
  }
}

/** The SHA-256 of the stream at each end, null where none is known. */
export interface Digests {
  sendDigest: string | null;
  receiveDigest: string | null;
}

type Exit = { ok: true; code: number | null; signal: string | null } | { ok: false; error: unknown };

const EXIT_GRACE_MS = 15_000;

function settle(p: Promise<{ code: number | null; signal: string | null }>): Promise<Exit> {
  return p.then(
    (s) => ({ ok: true, ...s }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function side(
  host: BtrfsHost,
  role: 'send' | 'receive',
  proc: HostProcess | undefined,
  exit: Exit | undefined,
): TransferSide {
  const ok = exit?.ok ? exit : undefined;
  const failed = exit && !exit.ok ? `${(exit.error as Error)?.message ?? String(exit.error)}\n` : '';
  return {
    host: host.label,
    role,
    exitCode: ok ? ok.code : null,
    signal: ok ? ok.signal : null,
    stderr: `${stripDigest(proc?.stderr() ?? '')}${failed}`,
  };
}

/** A transfer whose both ends exited 0: the byte count and the digests the ends' digest stages printed. */
export interface TransferDone extends Digests {
  bytes: number;
}

/**
 * Run sender | [rate limit] | receiver, metered at the sender, with backpressure end to end, a
 * stall watchdog and abort. Resolves with the byte count when both ends exited 0; otherwise kills both and
 * throws a TransferFailure describing both ends.
 */
export async function runTransfer(plan: TransferPlan): Promise<TransferDone> {
  const ac = new AbortController();
  const onAbort = () => ac.abort(new AbortedError('btrfs transfer aborted', { cause: plan.signal?.reason }));
  if (plan.signal?.aborted) onAbort();
  plan.signal?.addEventListener('abort', onAbort, { once: true });
  let receiver: HostProcess | undefined;
  let sender: HostProcess | undefined;
  const meter = new ProgressMeter({
    ...(plan.onProgress && { onProgress: plan.onProgress }),
    intervalMs: plan.progressInterval,
  });
  Promise.resolve(plan.total).then(
    (t) => meter.setTotal(t),
    () => undefined,
  );
  const killAll = () => {
    sender?.kill();
    receiver?.kill();
  };
  ac.signal.addEventListener('abort', killAll, { once: true });
  const watchdog = setInterval(
    () => {
      if (performance.now() - meter.lastActivity > plan.stallTimeout) {
        ac.abort(new TimeoutError(`btrfs transfer stalled: no data for ${plan.stallTimeout} ms`));
      }
    },
    Math.max(10, Math.min(1_000, plan.stallTimeout / 4)),
  );
  watchdog.unref();
  let streamError: unknown;
  const pipeHash = plan.digestPipe ? new StreamHash() : undefined;
  const digests = (): Digests => ({
    sendDigest: sender?.digest?.() ?? parseDigest(sender?.stderr() ?? ''),
    receiveDigest: pipeHash ? pipeHash.hex : (receiver?.digest?.() ?? parseDigest(receiver?.stderr() ?? '')),
  });
  try {
    if (ac.signal.aborted) throw ac.signal.reason;
    receiver = await plan.receiver.spawn(plan.receiverStages, {
      signal: ac.signal,
      ...(plan.receiverDigest && { digest: plan.receiverDigest }),
    });
    // A channel closes only once its stdout was read to the end: drain the receiver's (it says
    // nothing with -q) and give the sender's stdin an EOF, it reads none.
    receiver.stdout.resume();
    sender = await plan.sender.spawn(plan.senderStages, {
      signal: ac.signal,
      ...(plan.senderDigest && { digest: plan.senderDigest }),
    });
    pipeHash?.watch(sender.stdout);
    sender.stdin.end();
    // The meter watches the sender's stdout instead of being a pipeline stage: a pass-through
    // Transform cost ~0.5 CPU s/GiB (bench/README.md). The rate limiter is a stage only when set.
    meter.observe(sender.stdout);
    const streams: (Readable | Writable)[] = [sender.stdout];
    if (plan.rateLimit !== null) streams.push(new RateLimitStream({ rate: plan.rateLimit }));
    streams.push(receiver.stdin);
    // A dropped connection or a receiver that quit does not always error the channel's
    // writable side: stop the stream as soon as either end's status says it cannot finish.
    const ends = new AbortController();
    let receiverGone: NodeJS.Timeout | undefined;
    const stop = (err: unknown) => ends.abort(err);
    sender.exited.catch(stop);
    let streaming = true;
    receiver.exited.then(() => {
      if (!streaming) return;
      receiverGone = setTimeout(() => stop(new Error('the receiver exited before the stream ended')), 2_000);
      receiverGone.unref();
    }, stop);
    try {
      await pipeline(streams as unknown as [Readable, Writable], {
        signal: AbortSignal.any([ac.signal, ends.signal]),
      });
    } finally {
      streaming = false;
      clearTimeout(receiverGone);
    }
  } catch (err) {
    streamError = err;
    killAll();
  } finally {
    clearInterval(watchdog);
  }
  // Both ends report their status; after a failure they get a grace period to notice the kill.
  let graceTimer: NodeJS.Timeout | undefined;
  const exits = await Promise.race([
    Promise.all([sender ? settle(sender.exited) : undefined, receiver ? settle(receiver.exited) : undefined]),
    ...(streamError === undefined
      ? []
      : [
          new Promise<[undefined, undefined]>((resolve) => {
            graceTimer = setTimeout(() => resolve([undefined, undefined]), EXIT_GRACE_MS);
          }),
        ]),
  ]);
  clearTimeout(graceTimer);
  plan.signal?.removeEventListener('abort', onAbort);
  ac.signal.removeEventListener('abort', killAll);
  const [sExit, rExit] = exits;
  const sSide = side(plan.sender, 'send', sender, sExit);
  const rSide = side(plan.receiver, 'receive', receiver, rExit);
  const bytes = meter.bytes;
  const fail = (kind: ErrorKind, summary: string, cause: unknown): never => {
    throw new TransferFailure(kind, summary, sSide, rSide, bytes, cause, digests());
  };
  if (ac.signal.aborted) {
    const reason = ac.signal.reason as Error;
    fail(isSshmuxError(reason) ? reason.kind : 'aborted', reason.message, reason);
  }
  const transport = [sExit, rExit].find((e): e is { ok: false; error: unknown } => e !== undefined && !e.ok);
  if (transport) {
    const e = translateError(transport.error);
    fail(e.kind, e.message.split('\n')[0]!, e);
  }
  if (!sender || !receiver) {
    const e = translateError(streamError);
    fail(e.kind, `could not start the transfer: ${e.message}`, e);
  }
  const failedSides = [
    { exit: sExit, host: plan.sender, what: 'btrfs send' },
    { exit: rExit, host: plan.receiver, what: 'btrfs receive' },
  ].filter((s) => !s.exit?.ok || s.exit.code !== 0);
  if (failedSides.length > 0) {
    const first = failedSides.find((s) => s.host.destination !== undefined) ?? failedSides[0]!;
    fail(
      first.host.destination !== undefined ? 'remote' : 'local',
      `${failedSides.map((s) => `${s.what} on ${s.host.label}`).join(' and ')} failed`,
      streamError,
    );
  }
  if (streamError !== undefined) {
    const e = translateError(streamError);
    fail(e.kind, `stream failed: ${e.message}`, e);
  }
  return { bytes, ...digests() };
}
