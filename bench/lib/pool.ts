import type { HostConfig } from '../../src/config/host-config.js';
import { benchHostConfig, type PoolLike, type PoolOptionsLike } from './sshmux.js';
import type { Ctx } from './types.js';

/** Why pool rows cannot run yet, or undefined. */
export function poolMissing(ctx: Ctx): string | undefined {
  return ctx.sshmux.missing('SshPool', 'plainHostConfig');
}

export function hostFor(ctx: Ctx, cipher: string): HostConfig {
  return benchHostConfig(ctx.sshmux.mod, ctx.endpoint, cipher);
}

/** Close a pool, destroying it if a graceful close hangs. */
export async function closePool(pool: PoolLike): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((r) => {
    timer = setTimeout(() => r('hung'), 10_000);
  });
  try {
    if ((await Promise.race([pool.close(), hung])) === 'hung') pool.destroy?.(new Error('bench: close hung'));
  } finally {
    clearTimeout(timer);
  }
}

/** A new SshPool (defaults unless `options`), closed after `fn` even when it throws. */
export async function usingPool<T>(
  ctx: Ctx,
  options: PoolOptionsLike | undefined,
  fn: (pool: PoolLike) => Promise<T>,
): Promise<T> {
  const Pool = ctx.sshmux.mod.SshPool!;
  const pool = new Pool(options);
  try {
    return await fn(pool);
  } finally {
    await closePool(pool);
  }
}

/** exec that fails unless the remote command exited 0. */
export async function execOk(pool: PoolLike, host: HostConfig, command: string): Promise<void> {
  const r = await pool.exec(host, command);
  if (r.exitCode !== 0)
    throw new Error(`\`${command}\` exited ${r.exitCode}: ${String(r.stderr).slice(0, 200)}`);
}
