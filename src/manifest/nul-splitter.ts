/**
 * Splits a byte stream into NUL-terminated fields, whatever the chunk boundaries. Fields
 * come out as raw (latin1) strings. A trailing field without its NUL is held until `end()`.
 */
export class NulSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  /** Bytes held for a field whose NUL has not arrived yet. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Feed a chunk; returns the fields it completed. */
  push(chunk: Buffer): string[] {
    const fields: string[] = [];
    let start = 0;
    for (let nul = chunk.indexOf(0, start); nul !== -1; nul = chunk.indexOf(0, start)) {
      const piece = chunk.subarray(start, nul);
      if (this.#pending.length > 0) {
        this.#pending.push(piece);
        fields.push(Buffer.concat(this.#pending).toString('latin1'));
        this.#pending = [];
        this.#pendingBytes = 0;
      } else {
        fields.push(piece.toString('latin1'));
      }
      start = nul + 1;
    }
    if (start < chunk.length) {
      this.#pending.push(Buffer.from(chunk.subarray(start)));
      this.#pendingBytes += chunk.length - start;
    }
    return fields;
  }

  /** Bytes after the last NUL (a truncated field), or undefined when the stream ended cleanly. */
  end(): string | undefined {
    if (this.#pending.length === 0) return undefined;
    const rest = Buffer.concat(this.#pending).toString('latin1');
    this.#pending = [];
    this.#pendingBytes = 0;
    return rest;
  }
}
