/**
 * The public surface's types, checked by `npm run typecheck` (tsc over test/): a change to a
 * public signature fails here, so it is a visible decision with its line in this file. Nothing
 * here runs; the functions exist only to be type-checked.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { expectTypeOf } from 'vitest';
import {
  type AbortedError,
  type AuthError,
  type ChannelError,
  type ConfigError,
  type Destination,
  downloadTo,
  type ErrorKind,
  type ExecError,
  type ExecManyOptions,
  type ExecManyRun,
  type ExecManySummary,
  type ExecOptions,
  type ExecResult,
  type HeldConnection,
  type HostConfig,
  type HostKeyError,
  type HostResult,
  type HostStatus,
  isSshmuxError,
  type LeasedChannel,
  type LeasedSftp,
  type LocalError,
  type NetworkError,
  type PoolStats,
  type PushOptions,
  type PushResult,
  push,
  type RemoteError,
  type RemoteListener,
  type RemoteProcess,
  type RemoteRunner,
  type RemoteTree,
  type ResolveOptions,
  type RunOptions,
  resolveHostConfig,
  type SftpClient,
  type SftpPath,
  type SftpStatusError,
  type SshmuxError,
  SshPool,
  type SshPoolOptions,
  shellCommand,
  type TimeoutError,
  type TransferHooks,
  uploadFrom,
  type VerifyError,
} from '../../src/index.js';

export function sshPoolMethods(pool: SshPool): void {
  expectTypeOf(SshPool).constructorParameters.toEqualTypeOf<[options?: SshPoolOptions]>();
  expectTypeOf(pool).toMatchTypeOf<RemoteRunner>();
  expectTypeOf(pool).toMatchTypeOf<AsyncDisposable>();

  // exec: the encoding decides the output type.
  expectTypeOf(pool.exec('h', ['ls'], { encoding: 'utf8' })).resolves.toEqualTypeOf<ExecResult<string>>();
  expectTypeOf(pool.exec('h', ['ls'])).resolves.toEqualTypeOf<ExecResult<Buffer>>();
  expectTypeOf(pool.exec('h', 'ls', { encoding: 'buffer', check: true })).toEqualTypeOf<
    Promise<ExecResult<Buffer>>
  >();
  expectTypeOf<Parameters<SshPool['spawn']>>().toEqualTypeOf<
    [dest: Destination, command: readonly string[] | string, options?: RunOptions]
  >();
  expectTypeOf(pool.spawn).returns.toEqualTypeOf<Promise<RemoteProcess>>();
  expectTypeOf(pool.sftp).parameters.toEqualTypeOf<[dest: Destination, options?: { signal?: AbortSignal }]>();
  expectTypeOf(pool.sftp).returns.toEqualTypeOf<Promise<LeasedSftp>>();
  expectTypeOf(pool.check).returns.toEqualTypeOf<Promise<void>>();
  expectTypeOf(pool.hold).returns.toEqualTypeOf<Promise<HeldConnection>>();
  expectTypeOf(pool.listen).returns.toEqualTypeOf<Promise<RemoteListener>>();
  expectTypeOf(pool.openChannel).returns.toEqualTypeOf<Promise<LeasedChannel>>();
  expectTypeOf(pool.stats).returns.toEqualTypeOf<PoolStats>();
  expectTypeOf(pool.close).returns.toEqualTypeOf<Promise<void>>();
  expectTypeOf(pool.destroy).parameters.toEqualTypeOf<[err?: SshmuxError]>();
  expectTypeOf(pool.closed).toEqualTypeOf<boolean>();

  // execMany: a run to iterate and a summary, typed by the encoding.
  const text = pool.execMany(['a', 'b'], ['uptime'], { encoding: 'utf8', concurrency: 4 });
  expectTypeOf(text).toEqualTypeOf<ExecManyRun<string>>();
  expectTypeOf(text).toMatchTypeOf<AsyncIterable<HostResult<string>>>();
  expectTypeOf(text.summary()).toEqualTypeOf<Promise<ExecManySummary<string>>>();
  expectTypeOf(pool.execMany(['a'], 'uptime')).toEqualTypeOf<ExecManyRun<Buffer>>();
  // @ts-expect-error a stream stdin cannot be given to many hosts
  pool.execMany(['a'], 'cat', { stdin: process.stdin });
}

export function execManyTypes(): void {
  expectTypeOf<HostStatus>().toEqualTypeOf<'ok' | 'failed' | 'error' | 'aborted'>();
  expectTypeOf<keyof HostResult>().toEqualTypeOf<
    'host' | 'index' | 'status' | 'exitCode' | 'signal' | 'stdout' | 'stderr' | 'error' | 'durationMs'
  >();
  expectTypeOf<HostResult['error']>().toEqualTypeOf<SshmuxError | undefined>();
  expectTypeOf<keyof ExecManySummary>().toEqualTypeOf<
    'total' | 'ok' | 'failed' | 'errors' | 'aborted' | 'durationMs' | 'peakConnecting' | 'results'
  >();
  expectTypeOf<keyof ExecManyOptions>().toEqualTypeOf<
    | keyof Omit<RunOptions, 'stdin'>
    | 'concurrency'
    | 'connectConcurrency'
    | 'connectStagger'
    | 'stdin'
    | 'encoding'
    | 'maxBuffer'
    | 'onOutput'
  >();
  expectTypeOf<ExecManyOptions['stdin']>().toEqualTypeOf<Buffer | string | undefined>();
}

export function optionsAndResults(): void {
  expectTypeOf<keyof SshPoolOptions>().toEqualTypeOf<
    | 'concurrency'
    | 'maxConnectionsPerHost'
    | 'channelsPerConnection'
    | 'persist'
    | 'logger'
    | 'hostKeyVerifier'
    | 'authProvider'
    | 'resolve'
    | 'socketFactory'
    | 'connectionFactory'
    | 'onBanner'
  >();
  expectTypeOf<keyof RunOptions>().toEqualTypeOf<
    'kind' | 'env' | 'pty' | 'agent' | 'timeout' | 'signal' | 'stdin' | 'track' | 'receiveWindow'
  >();
  expectTypeOf<keyof ExecOptions>().toEqualTypeOf<keyof RunOptions | 'check' | 'encoding' | 'maxBuffer'>();
  expectTypeOf<keyof ExecResult>().toEqualTypeOf<
    'stdout' | 'stderr' | 'exitCode' | 'signal' | 'durationMs'
  >();
  expectTypeOf<ExecResult['exitCode']>().toEqualTypeOf<number | null>();
  expectTypeOf<RemoteProcess['exited']>().toEqualTypeOf<
    Promise<{ code: number | null; signal: string | null }>
  >();
  expectTypeOf<LeasedSftp['sftp']>().toEqualTypeOf<SFTPWrapper>();
  expectTypeOf<Destination>().toEqualTypeOf<string | HostConfig>();
}

export function hostConfig(): void {
  expectTypeOf<keyof HostConfig>().toEqualTypeOf<
    | 'originalHost'
    | 'hostname'
    | 'port'
    | 'user'
    | 'identityFiles'
    | 'identitiesOnly'
    | 'identityAgent'
    | 'proxyJump'
    | 'jumpHosts'
    | 'proxyCommand'
    | 'proxyUseFdpass'
    | 'connectTimeoutMs'
    | 'serverAliveInterval'
    | 'serverAliveCountMax'
    | 'strictHostKeyChecking'
    | 'userKnownHostsFiles'
    | 'globalKnownHostsFiles'
    | 'hostKeyAlias'
    | 'checkHostIp'
    | 'hashKnownHosts'
    | 'updateHostKeys'
    | 'batchMode'
    | 'ciphers'
    | 'kexAlgorithms'
    | 'macs'
    | 'hostKeyAlgorithms'
    | 'compression'
    | 'sendEnv'
    | 'setEnv'
    | 'controlMaster'
    | 'controlPath'
    | 'controlPersistSeconds'
    | 'knownHostsCommand'
    | 'connectionAttempts'
    | 'requiredRsaSize'
    | 'tcpKeepAlive'
    | 'bindAddress'
    | 'bindInterface'
    | 'addressFamily'
    | 'authentication'
    | 'localForwards'
    | 'stdioForward'
    | 'poolKey'
    | 'effective'
    | 'origins'
  >();
  expectTypeOf<HostConfig['hostname']>().toEqualTypeOf<string>();
  expectTypeOf<HostConfig['port']>().toEqualTypeOf<number>();
  expectTypeOf<HostConfig['user']>().toEqualTypeOf<string>();
  expectTypeOf<HostConfig['proxyJump']>().toEqualTypeOf<readonly string[]>();
  expectTypeOf<HostConfig['jumpHosts']>().toEqualTypeOf<readonly HostConfig[] | undefined>();
  expectTypeOf<HostConfig['poolKey']>().toEqualTypeOf<string>();
  expectTypeOf(resolveHostConfig).parameters.toEqualTypeOf<[dest: string, options?: ResolveOptions]>();
  expectTypeOf(resolveHostConfig).returns.toEqualTypeOf<Promise<HostConfig>>();
}

export function transfers(): void {
  // push (and, once they land, upload/download/pull: add them here).
  expectTypeOf(push).parameters.toEqualTypeOf<
    [runner: RemoteRunner, localDir: string | Buffer, tree: RemoteTree, options?: PushOptions]
  >();
  expectTypeOf(push).returns.toEqualTypeOf<Promise<PushResult>>();
  expectTypeOf<keyof PushOptions>().toEqualTypeOf<
    | 'checksum'
    | 'delete'
    | 'rateLimit'
    | 'concurrency'
    | 'verify'
    | 'transport'
    | 'onProgress'
    | 'signal'
    | 'logger'
  >();
  expectTypeOf(uploadFrom).parameters.toEqualTypeOf<
    [client: SftpClient, handle: Buffer, path: SftpPath, local: FileHandle, hooks?: TransferHooks]
  >();
  expectTypeOf(uploadFrom).returns.toEqualTypeOf<Promise<number>>();
  expectTypeOf(downloadTo).parameter(0).toEqualTypeOf<SftpClient>();
  expectTypeOf(downloadTo).returns.toEqualTypeOf<Promise<number>>();
  expectTypeOf(shellCommand).parameters.toEqualTypeOf<[argvOrCommand: readonly string[] | string]>();
}

export function errors(err: unknown): void {
  expectTypeOf<ErrorKind>().toEqualTypeOf<
    | 'auth'
    | 'host-key'
    | 'network'
    | 'timeout'
    | 'channel'
    | 'remote'
    | 'config'
    | 'verify'
    | 'local'
    | 'aborted'
  >();
  expectTypeOf<SshmuxError['kind']>().toEqualTypeOf<ErrorKind>();
  expectTypeOf<SshmuxError['code']>().toEqualTypeOf<string>();
  expectTypeOf<SshmuxError['retryable']>().toEqualTypeOf<boolean>();
  expectTypeOf<SshmuxError['destination']>().toEqualTypeOf<string | undefined>();
  expectTypeOf<AuthError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<HostKeyError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<NetworkError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<TimeoutError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<ChannelError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<RemoteError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<SftpStatusError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<ExecError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<ConfigError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<VerifyError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<LocalError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<AbortedError>().toMatchTypeOf<SshmuxError>();
  expectTypeOf<ExecError>().toMatchTypeOf<RemoteError>();
  if (isSshmuxError(err)) expectTypeOf(err).toEqualTypeOf<SshmuxError>();
}

// Keeps the Duplex import honest: a SocketFactory's stream type is part of SshPoolOptions.
expectTypeOf<ReturnType<NonNullable<SshPoolOptions['socketFactory']>>>().toEqualTypeOf<Promise<Duplex>>();
