// Exact-size reads from a stream of chunks, so a volume is read with one copy and nothing more of
// the input is held than the part being converted.

export class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private done = false;
  private readonly it: AsyncIterator<Buffer | Uint8Array>;
  /** Bytes handed out so far (for error messages). */
  position = 0;

  constructor(source: AsyncIterable<Buffer | Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Exactly n bytes in a fresh, aligned buffer, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) { this.done = true; break; }
      const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      if (c.length === 0) continue;
      this.chunks.push(c);
      this.have += c.length;
    }
    const take = Math.min(n, this.have);
    // allocUnsafeSlow: never a slice of the shared pool, so byteOffset is 0 and typed arrays of any
    // element size can view it.
    const out = Buffer.allocUnsafeSlow(take);
    let o = 0;
    while (o < take) {
      const c = this.chunks[0];
      const k = Math.min(c.length, take - o);
      c.copy(out, o, 0, k);
      o += k;
      if (k === c.length) this.chunks.shift(); else this.chunks[0] = c.subarray(k);
    }
    this.have -= take;
    this.position += take;
    return out;
  }

  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const b = await this.read(Math.min(left, 1 << 20));
      if (b.length === 0) break;
      left -= b.length;
    }
    return n - left;
  }

  /** Stops reading the underlying stream (closes files, ends decompression). */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}
