// The public surface of sshmux: explicit named exports only.

export { listSubvolumes } from './btrfs/list-subvolumes.js';
export type { ReplicateOptions } from './btrfs/options.js';
export type { ProgressEvent } from './btrfs/progress-meter.js';
export { parseRate, type RateLimitOptions, RateLimitStream } from './btrfs/rate-limit.js';
export { pullSnapshot, type ReplicateResult, relaySnapshot, sendSnapshot } from './btrfs/replicate.js';
export { parseSubvolumeShow, type SubvolumeInfo } from './btrfs/subvolume-show.js';
export { BtrfsTransferError, type TransferSide } from './btrfs/transfer-error.js';
export type { AuthSettings } from './config/auth-options.js';
// Types the API above refers to: exported so that callers can name them and docs/api shows them.
export type { Destination as ParsedDestination } from './config/destination.js';
export { parseDestination } from './config/destination.js';
export type { Forward } from './config/forward-spec.js';
export type { HostConfig, PlainHostOptions, StrictHostKeyChecking } from './config/host-config.js';
export {
  assertConnectable,
  KEYWORD_SUPPORT,
  type KeywordStatus,
  type KeywordSupport,
} from './config/keyword-support.js';
export { plainHostConfig } from './config/plain.js';
export { parseRemotePath, type RemotePath } from './config/remote-path.js';
export { resolveHostConfig } from './config/resolve.js';
export type { CommandLineItem, ResolveOptions } from './config/resolve-options.js';
export { formatSshG } from './config/ssh-g.js';
export type { SessionChannelOptions } from './connection/agent-forwarding.js';
export type {
  AuthHooks,
  AuthProvider,
  HostKeyPeer,
  HostKeyVerifier,
  SocketFactory,
} from './connection/connection.js';
export type { ProxyCommandOptions } from './connection/proxy-command.js';
export { type HopResolver, type ProxyJumpOptions, proxyJumpSocketFactory } from './connection/proxy-jump.js';
// doctor: what `sshmux doctor` checks, as a library call.
export { type DoctorOptions, runDoctor } from './doctor/doctor.js';
export type { SystemFacts } from './doctor/system-checks.js';
export type { DoctorCheck, DoctorReport, DoctorSection, DoctorStatus } from './doctor/types.js';
export {
  AbortedError,
  AuthError,
  ChannelError,
  ConfigError,
  type ErrorKind,
  ExecError,
  type ExecFailure,
  HostKeyError,
  isSshmuxError,
  LocalError,
  NetworkError,
  RemoteError,
  SftpStatusError,
  SshmuxError,
  type SshmuxErrorOptions,
  TimeoutError,
  VerifyError,
} from './errors.js';
// forward: remote forwards (ssh -R) and agent forwarding over the pool.
export { agentSessionHost, connectAgent } from './forward/agent.js';
export type { RemoteOpenPermission, RemoteOpenPolicy } from './forward/remote-dynamic.js';
export type { ForwardLog } from './forward/remote-forwards.js';
export {
  type ListenFn,
  type Offer,
  RemoteForwards,
  type RemoteForwardsOptions,
} from './forward/remote-forwards.js';
export type { SocksTarget } from './forward/remote-spec.js';
export { type LocalTarget, type RemoteForwardSpec, remoteForwardSpec } from './forward/remote-spec.js';
export type { Logger } from './logger.js';
export { compareManifests, manifestsEqual } from './manifest/compare.js';
export {
  type LocalManifestOptions,
  localManifest,
  type RemoteManifestOptions,
  type RemoteTree,
  remoteManifest,
} from './manifest/manifest.js';
export { displayPath, rawFromBytes, rawFromString, rawToBytes } from './manifest/raw-path.js';
export { sha256sumLine } from './manifest/sha256sum-format.js';
export type {
  ErrorEntry,
  FileEntry,
  Manifest,
  ManifestComparison,
  ManifestEntry,
  SymlinkEntry,
} from './manifest/types.js';
// mux: the per-user daemon behind `sshmux ssh`, its endpoint and wire protocol version.
export { type EndpointEnvironment, type MuxEndpoint, selectEndpoint } from './mux/endpoint.js';
export { type DaemonRunner, MuxDaemon, type MuxDaemonOptions } from './mux/mux-daemon.js';
export { PROTOCOL_VERSION as MUX_PROTOCOL_VERSION } from './mux/protocol.js';
export type { ChannelOrigin, ChannelTarget } from './pool/channel-target.js';
export { ExecManyRun } from './pool/exec-many.js';
export type { ExecManyOptions, ExecManySummary, HostResult, HostStatus } from './pool/exec-many-options.js';
export type { LeasedChannel } from './pool/forward-channel.js';
export type { HeldConnection } from './pool/held-connection.js';
export type {
  ConnectionFactory,
  ConnectionFactoryOptions,
  DestinationResolver,
  PoolConnection,
  ResolvedPoolOptions,
  SshPoolOptions,
} from './pool/options.js';
export { SshPool } from './pool/ssh-pool.js';
export type {
  AgentOpener,
  Destination,
  ExecOptions,
  ExecResult,
  IncomingConnection,
  IncomingHandler,
  LeasedSftp,
  PoolStats,
  PtyOptions,
  RemoteBind,
  RemoteListener,
  RemoteProcess,
  RemoteRunner,
  RunOptions,
  SessionKind,
} from './pool/types.js';
export { type RetryPolicy, withRetry } from './pool/with-retry.js';
export type { PullOptions, PullProgress } from './pull/options.js';
export { type PullResult, pull } from './pull/pull.js';
export type { PushOptions, PushProgress } from './push/options.js';
export { type PushResult, push } from './push/push.js';
export type { RateLimiter } from './push/rate-limiter.js';
export { quoteArg, shellCommand } from './quote.js';
export {
  type AuthHandler,
  type AuthPrompter,
  type AuthProviderOptions,
  createAuthProvider,
} from './security/auth.js';
export { type CliPrompterOptions, cliAuthPrompter } from './security/cli-prompter.js';
export {
  type CliPassphraseOptions,
  cliPassphraseSource,
  type PassphraseSource,
} from './security/passphrase.js';
export type { PromptIo } from './security/tty-prompt.js';
export { ttyHostKeyPrompt } from './security/tty-prompt.js';
export {
  createHostKeyVerifier,
  type HostKeyPrompt,
  type HostKeyQuestion,
  type HostKeyVerifierOptions,
} from './security/verify-host-key.js';
export { type EscapeAction, type EscapeOutput, EscapeReader } from './session/escape-reader.js';
export type { RawModeInput, RestoreHooks } from './session/raw-terminal.js';
export { RawTerminal } from './session/raw-terminal.js';
export type { TerminalSize } from './session/terminal-session.js';
export {
  type SessionControl,
  type TerminalExit,
  TerminalSession,
  type TerminalSessionOptions,
} from './session/terminal-session.js';
export type { SftpAttrs } from './transfer/sftp-attrs.js';
export {
  OpenFlag,
  SftpClient,
  type SftpClientOptions,
  type SftpDirEntry,
  type SftpPath,
  Status as SftpStatus,
} from './transfer/sftp-client.js';
export type { PacketReader, PacketWriter } from './transfer/sftp-codec.js';
export { type SftpStatvfs, statvfs } from './transfer/sftp-extensions.js';
export type { ChunkSink } from './transfer/sftp-transfer.js';
export { downloadTo, type TransferHooks, uploadFrom } from './transfer/sftp-transfer.js';
// transfer: upload and download of files and trees over pooled SFTP sessions.
export { download, type TransferResult, upload } from './transfer/transfer.js';
export type { SymlinkPolicy, TransferOptions, TransferProgress } from './transfer/transfer-options.js';
