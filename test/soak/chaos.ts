import { setTimeout as sleep } from 'node:timers/promises';
import type { SshPool } from '../../src/index.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import type { StartedSshd } from '../helpers/sshd.js';
import type { SoakReport } from './report.js';

export interface ChaosOptions {
  sshd: StartedSshd;
  pool: SshPool;
  proxy: FaultProxy;
  report: SoakReport;
  rand: () => number;
  log: (line: string) => void;
  restartEveryMs: number;
  /** Chance per half second of a fault struck on a live connection. @default 0.4 */
  strikeChance?: number;
  /** A quiet point (growth sample) this often, between the faults. */
  sample?: { everyMs: number; run: () => Promise<void> };
}

/**
 * In the background while the workers run: faults on live connections, refusal windows, sshd
 * restarts (with the pool's recovery time measured) and, in the long soak, the quiet points.
 */
export function startChaos(o: ChaosOptions): { stop: () => Promise<void> } {
  const { sshd, pool, proxy, report, rand, log } = o;
  let running = true;
  const loop = (async () => {
    let nextRestart = o.restartEveryMs > 0 ? Date.now() + o.restartEveryMs : Infinity;
    let nextSample = o.sample ? Date.now() + o.sample.everyMs : Infinity;
    while (running) {
      await sleep(500);
      if (!running) break;
      // A fault on a live (pooled, long-lived) connection, counted from its current offset.
      if (rand() < (o.strikeChance ?? 0.4)) proxy.strike();
      if (rand() < 0.03) {
        const ms = 300 + Math.floor(rand() * 2_500);
        proxy.refuse(ms);
        report.faults.refuseWindows++;
      }
      if (Date.now() >= nextSample) {
        await o.sample!.run();
        nextSample = Date.now() + o.sample!.everyMs;
      }
      if (Date.now() >= nextRestart) {
        nextRestart = Date.now() + o.restartEveryMs;
        const t0 = Date.now();
        try {
          await sshd.restartSshd();
          report.faults.restarts++;
          for (;;) {
            try {
              await pool.exec('direct', 'true', { timeout: 5_000 });
              break;
            } catch {
              if (Date.now() - t0 > 60_000) throw new Error('no recovery within 60 s');
              await sleep(100);
            }
          }
          report.recoverMs.push(Date.now() - t0);
          log(`sshd restarted; pool recovered in ${Date.now() - t0} ms`);
        } catch (err) {
          report.leaks.push(`sshd restart: ${(err as Error).message}`);
        }
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
