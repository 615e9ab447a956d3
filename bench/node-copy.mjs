#!/usr/bin/env node
// The floor under any Node.js de-identifier on this machine (bench/deid.ts runs it beside `deid` and
// gdcmanon): copies every file of <in-dir> to <out-dir> with the same I/O pattern as `dicomgate deid`
// (16 files in flight, a synchronous open and fstat, the read into a reused buffer and the write on
// libuv's thread pool, a synchronous create, then close and rename from a temporary name), and nothing
// else: no parsing, no key database. Plain JavaScript, so its start-up is Node's own. What `deid` takes
// beyond this run is what parsing, de-identifying, encoding, the key database and the CLI's start-up
// cost. (Until 2026-11-22 19:14 both read synchronously; they read on the pool since.)
// Usage: node bench/node-copy.mjs <in-dir> <out-dir>   (UV_THREADPOOL_SIZE=16, as bin/dicomgate sets)
import { closeSync, fstatSync, mkdirSync, openSync, read, readdirSync, renameSync, writev } from 'node:fs';
import { join } from 'node:path';

const LANES = 16;
const [inDir, outDir] = process.argv.slice(2);
if (!inDir || !outDir) {
  console.error('usage: node bench/node-copy.mjs <in-dir> <out-dir>');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const names = readdirSync(inDir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
let next = 0;

function readAt(fd, buf, offset, length) {
  return new Promise((resolve, reject) => read(fd, buf, offset, length, offset, (err, n) => (err ? reject(err) : resolve(n))));
}

async function readInto(buf, path) {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > buf.length) throw new Error(`${path}: larger than ${buf.length} bytes`);
    let n = 0;
    for (let r; n < size && (r = await readAt(fd, buf, n, size - n)) > 0; ) n += r;
    return n;
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd, data) {
  return new Promise((resolve, reject) =>
    writev(fd, [data], (err, n) => (err ? reject(err) : n === data.length ? resolve() : reject(new Error('short write')))),
  );
}

async function lane() {
  const buf = Buffer.allocUnsafeSlow(4 << 20);
  while (next < names.length) {
    const name = names[next++];
    const n = await readInto(buf, join(inDir, name));
    const temp = join(outDir, `${name}.tmp`);
    const fd = openSync(temp, 'wx');
    try {
      await writeAll(fd, buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(outDir, name));
  }
}

await Promise.all(Array.from({ length: LANES }, lane));
