// Cuts a TCP byte stream into whole PDUs (PS3.8 9.3.1: 1-byte type, 1 reserved, 4-byte length).
// Memory stays bounded: a PDU whose announced length exceeds the limit is refused from its
// header alone, before its body is buffered, so a hostile length cannot make us allocate.
import { AppError } from '../../core/errors.ts';

export interface FramerLimits {
  /** Largest P-DATA-TF variable field we accept (what we announced as maximum length; 0 = unlimited). */
  readonly maxPDataLength: number;
  /** Largest other PDU (A-ASSOCIATE-RQ with many contexts is the biggest in practice). */
  readonly maxControlLength: number;
}

// 128 contexts with a dozen long transfer syntaxes each stay well below this.
export const DEFAULT_MAX_CONTROL_LENGTH = 256 * 1024;

export class FrameError extends AppError {
  constructor(
    readonly kind: 'unrecognized' | 'too-long',
    detail: string,
  ) {
    super('DIMSE_PDU_INVALID', { detail });
  }
}

export class PduFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly limits: FramerLimits) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Next complete PDU, or undefined when more bytes are needed. Throws FrameError on a bad header. */
  take(): Buffer | undefined {
    const head = this.peekHeader();
    if (!head || this.buffered < 6 + head.length) return undefined;
    return this.consume(6 + head.length);
  }

  /** Type and length of the next PDU once its 6-byte header is here (nothing consumed). Throws FrameError on a bad header. */
  peekHeader(): { type: number; length: number } | undefined {
    if (this.buffered < 6) return undefined;
    const head = this.peek(6);
    const type = head[0];
    const length = head.readUInt32BE(2);
    if (type < 0x01 || type > 0x07) throw new FrameError('unrecognized', `unrecognized PDU type ${type.toString(16)}H`);
    // P-DATA-TF: the limit applies to the variable field (PS3.8 D.1: maximum length).
    const limit = type === 0x04 ? this.limits.maxPDataLength : this.limits.maxControlLength;
    if (limit > 0 && length > limit) throw new FrameError('too-long', `PDU type ${type.toString(16)}H length ${length} exceeds ${limit}`);
    return { type, length };
  }

  /** Exactly `n` bytes (copied only when they span chunks), or undefined while fewer are buffered. */
  takeExact(n: number): Buffer | undefined {
    return this.buffered < n ? undefined : this.consume(n);
  }

  /**
   * Up to `n` bytes from the first buffered chunk, never copied (a view of what the socket read),
   * or undefined when nothing is buffered. For streaming a P-DATA value as it arrives.
   */
  takeUpTo(n: number): Buffer | undefined {
    if (this.buffered === 0 || n <= 0) return undefined;
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length <= n) {
      out = first;
      this.chunks.shift();
    } else {
      out = first.subarray(0, n);
      this.chunks[0] = first.subarray(n);
    }
    this.buffered -= out.length;
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    return Buffer.concat(this.chunks, n);
  }

  private consume(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0];
        const take = Math.min(c.length, n - off);
        c.copy(out, off, 0, take);
        off += take;
        if (take === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(take);
      }
    }
    this.buffered -= n;
    return out;
  }
}
