/**
 * ssh's channel numbers: each new channel takes the lowest free number (channels.c
 * channel_new), listeners first, then the session, then each forwarded connection. The
 * numbers appear in ssh's messages ("channel 3: open failed: …") and in `~#`.
 */
export class ChannelIds {
  readonly #used = new Set<number>();

  take(): number {
    let id = 0;
    while (this.#used.has(id)) id++;
    this.#used.add(id);
    return id;
  }

  free(id: number): void {
    this.#used.delete(id);
  }
}
