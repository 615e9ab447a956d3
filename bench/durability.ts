// Durability benchmark: what one durable file costs on this disk, the floor under every "acknowledge
// only what is durably stored" number of the dimse, deid-gateway and pipeline benchmarks.
//
// In ONE run, interleaved rounds (median reported) of N files the size of one 512x512 CT slice
// (525 KB), each way written by synchronous calls on one thread (no event loop, no thread hops: the
// least any server can pay for it):
//   write only       open, write, close a new file: what DCMTK storescp does per instance (no fsync)
//   durable file     open, write, rename, fdatasync, directory fsync, close: what dicomgate's blob
//                    store does per instance (a new file per instance, renamed into place)
//   in place         overwrite 525 KB of an already written file, fdatasync: the data flush alone,
//                    without block allocation or new metadata to write
//   flush only       overwrite 4 KB in place, fdatasync: the disk's own flush latency
// "durable file" minus "write only" is what per-instance durability adds to a one-association push
// (storescu waits for each answer, so nothing overlaps it).
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DurabilityBenchOptions {
  /** Rounds of each way (median reported). Default 5. */
  repeat?: number;
  keep?: boolean;
}

const SLICE_BYTES = 525 * 1024;
const FILES_PER_ROUND = 200;

type Way = 'write only' | 'durable file' | 'in place' | 'flush only';
const WAYS: Way[] = ['write only', 'durable file', 'in place', 'flush only'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Milliseconds per file for `n` files written `way` into `dir` (a fresh folder per round). */
function round(way: Way, dir: string, n: number, data: Buffer, arena: number): number {
  mkdirSync(dir, { recursive: true });
  const dirFd = openSync(dir, 'r');
  const small = data.subarray(0, 4096);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (way === 'write only') {
      const fd = openSync(join(dir, `f${i}`), 'wx');
      writeSync(fd, data);
      closeSync(fd);
    } else if (way === 'durable file') {
      const temp = join(dir, `.f${i}.tmp`);
      const fd = openSync(temp, 'wx');
      writeSync(fd, data);
      renameSync(temp, join(dir, `f${i}`));
      fdatasyncSync(fd);
      fsyncSync(dirFd);
      closeSync(fd);
    } else if (way === 'in place') {
      writeSync(arena, data, 0, data.length, i * data.length);
      fdatasyncSync(arena);
    } else {
      writeSync(arena, small, 0, small.length, i * data.length);
      fdatasyncSync(arena);
    }
  }
  const ms = (performance.now() - t0) / n;
  closeSync(dirFd);
  return ms;
}

export async function durabilityBench(opts: DurabilityBenchOptions = {}): Promise<Record<string, unknown>> {
  const repeat = Math.max(1, opts.repeat ?? 5);
  const root = mkdtempSync(join(tmpdir(), 'dg-bench-durability-'));
  const data = Buffer.alloc(SLICE_BYTES);
  for (let i = 0; i < data.length; i += 2) data.writeUInt16LE((i * 7) & 0xffff, i);
  // The arena for the in-place ways: written and flushed once, so later writes allocate nothing.
  const arenaPath = join(root, 'arena');
  const arena = openSync(arenaPath, 'w+');
  for (let i = 0; i < FILES_PER_ROUND; i++) writeSync(arena, data, 0, data.length, i * data.length);
  fdatasyncSync(arena);
  const loadBefore = loadavg()[0];
  const samples = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
  try {
    for (let r = 0; r < repeat; r++) {
      for (const way of WAYS) {
        const dir = join(root, `r${r}-${way.replace(' ', '-')}`);
        samples.get(way)!.push(round(way, dir, FILES_PER_ROUND, data, arena));
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    closeSync(arena);
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  }
  const med = Object.fromEntries(WAYS.map((w) => [w, median(samples.get(w)!)])) as Record<Way, number>;
  console.log(`${FILES_PER_ROUND} files of ${(SLICE_BYTES / 1024).toFixed(0)} KB per round, ${repeat} interleaved rounds, median ms per file (all rounds):`);
  for (const w of WAYS) console.log(`  ${w.padEnd(13)} ${med[w].toFixed(3)} ms   (${samples.get(w)!.map((x) => x.toFixed(2)).join(', ')})`);
  const added = med['durable file'] - med['write only'];
  console.log(`per-instance durability adds ${added.toFixed(2)} ms to a one-association push (durable file - write only);`);
  console.log(`of that, the data flush alone (in place) is ${med['in place'].toFixed(2)} ms: the rest is the new file's block allocation and metadata (inode, bitmaps, folder; journal commit where the filesystem has a journal)`);
  console.log(`1-min load average: ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after (2 cores)`);
  return { filesPerRound: FILES_PER_ROUND, bytesPerFile: SLICE_BYTES, repeat, msPerFile: med, samples: Object.fromEntries(samples), durabilityAddsMs: added, loadBefore, loadAfter: loadavg()[0] };
}
