// multipart/related bodies as WADO-RS sends frames (PS3.18 8.6.1.2): parts separated by
// "--boundary", each with MIME headers, a blank line, then the bytes.
export interface Part {
  headers: Record<string, string>;
  body: Uint8Array;
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  return m?.[1];
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (let i = hay.indexOf(first, from); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

export function parseMultipart(body: Uint8Array, contentType: string): Part[] {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) throw new Error('multipart response without a boundary');
  const delim = ascii('--' + boundary);
  const parts: Part[] = [];
  let pos = indexOf(body, delim, 0);
  while (pos >= 0) {
    let start = pos + delim.length;
    // "--" after the delimiter closes the body.
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break;
    if (body[start] === 0x0d) start += 2;
    const headerEnd = indexOf(body, ascii('\r\n\r\n'), start);
    if (headerEnd < 0) break;
    const headers: Record<string, string> = {};
    for (const line of new TextDecoder().decode(body.subarray(start, headerEnd)).split('\r\n')) {
      const c = line.indexOf(':');
      if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    const dataStart = headerEnd + 4;
    const next = indexOf(body, delim, dataStart);
    if (next < 0) break;
    // The CRLF before the next delimiter belongs to the delimiter (RFC 2046 5.1.1).
    const end = body[next - 2] === 0x0d && body[next - 1] === 0x0a ? next - 2 : next;
    const declared = Number(headers['content-length']);
    const bodyEnd = Number.isInteger(declared) && dataStart + declared <= next ? dataStart + declared : end;
    parts.push({ headers, body: body.subarray(dataStart, bodyEnd) });
    pos = next;
  }
  return parts;
}
