// A one-line progress display on stderr: redrawn at most every 100 ms with \r, only on a TTY
// (piped output and logs get the final summary only).

export interface ProgressCounts {
  done: number;
  stored: number;
  duplicate: number;
  rejected: number;
}

export class ProgressLine {
  private readonly started = performance.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly enabled = stream.isTTY === true,
  ) {}

  update(c: ProgressCounts): void {
    this.draw(c.done, { stored: c.stored, duplicate: c.duplicate, rejected: c.rejected });
  }

  /** The same line with other counters (send: sent / warning / failed); `total` adds "n/total". */
  draw(done: number, counts: Readonly<Record<string, number>>, total?: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const rate = done / Math.max((now - this.started) / 1000, 1e-3);
    const parts = Object.entries(counts).map(([k, v]) => `  ${k} ${v}`).join('');
    let line = `${total === undefined ? done : `${done}/${total}`} files  ${rate.toFixed(0)} files/s${parts}`;
    // Some terminals report 0 columns; only trust a plausible width.
    const width = (this.stream.columns ?? 0) >= 20 ? this.stream.columns! : 200;
    if (line.length > width - 1) line = line.slice(0, width - 1);
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the line so the summary starts on a clean one. */
  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}
