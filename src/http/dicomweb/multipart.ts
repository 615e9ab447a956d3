// multipart/related (RFC 2387 over RFC 2046 5.1) for DICOMweb: a streaming reader for STOW-RS
// bodies (each part's bytes go to its sink as they arrive, so a 1 GB upload is never held in
// memory: at most one chunk plus the delimiter length) and a writer for WADO-RS responses.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export interface PartSink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}

export type PartHeaders = Record<string, string>;

export class MultipartError extends Error {
  override name = 'MultipartError';
}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');

/** The parameters of a Content-Type value: `multipart/related; type="application/dicom"; boundary=x`. */
export function mediaTypeParams(value: string): { type: string; params: Record<string, string> } {
  const [type, ...rest] = splitOutsideQuotes(value, ';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[p.slice(0, eq).trim().toLowerCase()] = v;
  }
  return { type: type.trim().toLowerCase(), params };
}

export function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseHeaders(block: string): PartHeaders {
  const h: PartHeaders = {};
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) h[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return h;
}

/**
 * Reads a multipart body from `stream`, calling `onPart` for each part's headers and feeding the
 * part's bytes to the returned sink. Parts are handled one after another; the stream is not read
 * while a sink is busy (backpressure through for-await).
 */
export async function readMultipart(stream: AsyncIterable<Buffer | string>, boundary: string, onPart: (headers: PartHeaders) => Promise<PartSink>): Promise<number> {
  if (boundary === '' || boundary.length > 70) throw new MultipartError('missing or invalid boundary');
  // The body's first delimiter may lack the leading CRLF; prefixing one makes every delimiter alike.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buf: Buffer = Buffer.from('\r\n');
  type State = 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done';
  let state: State = 'preamble';
  let sink: PartSink | undefined;
  let parts = 0;

  const step = async (final: boolean): Promise<void> => {
    for (;;) {
      if (state === 'preamble') {
        const i = buf.indexOf(delimiter);
        if (i < 0) {
          buf = buf.subarray(Math.max(0, buf.length - delimiter.length + 1));
          return;
        }
        buf = buf.subarray(i + delimiter.length);
        state = 'after-delimiter';
      } else if (state === 'after-delimiter') {
        if (buf.length < 2) return;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = 'done';
          return;
        }
        // Transport padding (RFC 2046: whitespace) may follow the boundary before its CRLF.
        const eol = buf.indexOf('\r\n');
        if (eol < 0) {
          if (buf.length > 256) throw new MultipartError('malformed boundary line');
          return;
        }
        buf = buf.subarray(eol + 2);
        state = 'headers';
      } else if (state === 'headers') {
        // A part with no headers starts right away with CRLF.
        const end = buf.subarray(0, 2).equals(Buffer.from('\r\n')) ? -2 : buf.indexOf(CRLF2);
        if (end === -1) {
          if (buf.length > MAX_HEADER_BYTES) throw new MultipartError('part headers too long');
          return;
        }
        const headers = end === -2 ? {} : parseHeaders(buf.subarray(0, end).toString('latin1'));
        buf = buf.subarray(end === -2 ? 2 : end + 4);
        sink = await onPart(headers);
        parts++;
        state = 'body';
      } else if (state === 'body') {
        const i = buf.indexOf(delimiter);
        if (i >= 0) {
          if (i > 0) await sink!.write(buf.subarray(0, i));
          await sink!.end();
          sink = undefined;
          buf = buf.subarray(i + delimiter.length);
          state = 'after-delimiter';
          continue;
        }
        // Keep a possible partial delimiter at the end for the next chunk.
        const safe = buf.length - (delimiter.length - 1);
        if (safe > 0) {
          await sink!.write(Buffer.from(buf.subarray(0, safe)));
          buf = buf.subarray(safe);
        }
        return;
      } else {
        return;
      }
      if (final && buf.length === 0) return;
    }
  };

  for await (const chunk of stream) {
    buf = buf.length === 0 ? Buffer.from(chunk as Buffer) : Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    await step(false);
    if ((state as State) === 'done') break;
  }
  await step(true);
  if ((state as State) !== 'done') throw new MultipartError('body ended before the closing boundary');
  return parts;
}

export function newBoundary(): string {
  return `dicomgate-${randomBytes(12).toString('hex')}`;
}

export interface OutPart {
  contentType: string;
  contentLength?: number;
  location?: string;
  body: () => AsyncIterable<Buffer | Uint8Array> | Buffer;
}

/** A part's delimiter line and headers, up to and including the blank line. */
export function partHead(boundary: string, p: Pick<OutPart, 'contentType' | 'contentLength' | 'location'>): string {
  let head = `--${boundary}\r\nContent-Type: ${p.contentType}\r\n`;
  if (p.contentLength !== undefined) head += `Content-Length: ${p.contentLength}\r\n`;
  if (p.location !== undefined) head += `Content-Location: ${p.location}\r\n`;
  return `${head}\r\n`;
}

/**
 * The exact length of multipartStream(boundary, parts) when every part declares its contentLength
 * (undefined otherwise): sent as Content-Length, the body needs no chunked framing and clients can
 * show progress.
 */
export function multipartLength(boundary: string, parts: readonly Pick<OutPart, 'contentType' | 'contentLength' | 'location'>[]): number | undefined {
  let n = Buffer.byteLength(`--${boundary}--\r\n`);
  for (const p of parts) {
    if (p.contentLength === undefined) return undefined;
    n += Buffer.byteLength(partHead(boundary, p), 'latin1') + p.contentLength + 2;
  }
  return n;
}

/**
 * A multipart/related body streamed part by part (each part opened only when reached). The CRLF that
 * ends a part's body travels with the next delimiter: two writes a part instead of three.
 */
export function multipartStream(boundary: string, parts: AsyncIterable<OutPart> | Iterable<OutPart>): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    let first = true;
    for await (const p of parts) {
      yield Buffer.from((first ? '' : '\r\n') + partHead(boundary, p), 'latin1');
      first = false;
      const body = p.body();
      if (Buffer.isBuffer(body)) yield body;
      else for await (const c of body) yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    }
    yield Buffer.from(`${first ? '' : '\r\n'}--${boundary}--\r\n`);
  }
  return Readable.from(gen());
}
