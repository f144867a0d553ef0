/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** sshmux/OpenSSH of each round's pair, then the median: noise that hits both sides of a pair cancels. */
export function pairedRatio(sshmux: readonly number[], openssh: readonly number[]): number | null {
  const n = Math.min(sshmux.length, openssh.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = sshmux[i]!;
    const b = openssh[i]!;
    if (Number.isFinite(a) && Number.isFinite(b) && b > 0) ratios.push(a / b);
  }
  return ratios.length > 0 ? median(ratios) : null;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Bytes per millisecond → MiB/s. */
export function mibPerSec(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000);
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB && bytes % (GiB / 4) === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB) return `${Math.round(bytes / MiB)} MiB`;
  return `${bytes} B`;
}
