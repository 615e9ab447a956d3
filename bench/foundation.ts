// Foundation benchmark (issue 2): on a generated 1000-slice 512x512 CT, in ONE run:
//   dicomgate import            vs  cp -r + sync of the same files
//   header-only parse           vs  dcmdump over the same files (DCMTK, one process)
//   full parse + write          vs  cp -r + sync (MB/s)
// Targets (ratios in the same run): import >= 0.5x cp instances/s; header parse >= 5,000 files/s;
// round trip >= 0.5x cp MB/s.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, mkdirSync, writevSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { generateCt } from './gen-ct.ts';
import { fmt, listFiles, rate, run, time, totalBytes, type Measure } from './lib.ts';
import { readPart10, readPart10Header, writePart10 } from '../src/dicom/part10.ts';

export async function foundationBench(opts: { slices: number; keep?: boolean }): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), 'dg-bench-'));
  const ctDir = join(root, 'ct');
  process.stderr.write(`generating ${opts.slices}-slice CT in ${ctDir}\n`);
  const files = generateCt(ctDir, opts.slices);
  const bytes = totalBytes(files);
  const results: Measure[] = [];
  await run('sync', []);

  // Reference: cp -r + sync.
  const cp = await run('sh', ['-c', `cp -r "${ctDir}" "${join(root, 'cp-copy')}" && sync`]);
  results.push({ name: 'reference: cp -r + sync', seconds: cp.seconds, files: files.length, bytes });

  // dicomgate import (a fresh data folder).
  const bin = new URL('../bin/dicomgate', import.meta.url).pathname;
  const imp = await run(bin, ['import', ctDir, '--data', join(root, 'data'), '--json']);
  if (imp.code !== 0) throw new Error(`import failed (${imp.code}): ${imp.stderr.slice(-2000)}`);
  const summary = JSON.parse(imp.stdout) as { stored: number; seconds: number };
  if (summary.stored !== files.length) throw new Error(`import stored ${summary.stored} of ${files.length}`);
  // Wall time of the command as a user runs it (includes Node + loader start-up), and the import's
  // own time as it reports it (what a longer import converges to).
  results.push({ name: 'dicomgate import (whole command)', seconds: imp.seconds, files: files.length, bytes, peakRssMb: imp.peakRssMb });
  results.push({ name: 'dicomgate import (excl. start-up)', seconds: summary.seconds, files: files.length, bytes });

  // Reference: dcmdump over all files in one process (header and values, no pixel data loading beyond skipping).
  const dump = await run('sh', ['-c', `dcmdump -q +sd "${ctDir}" > /dev/null`]);
  results.push({ name: 'reference: dcmdump +sd (one process)', seconds: dump.seconds, files: files.length, bytes });

  // Header-only parse (in this process; warm cache after the copies above).
  const header = await time(async () => {
    for (const f of files) await readPart10Header(f);
  });
  results.push({ name: 'dicomgate header-only parse', seconds: header.seconds, files: files.length, bytes });

  // Full parse + write round trip, written to a new folder and synced.
  const outDir = join(root, 'roundtrip');
  mkdirSync(outDir);
  const rt = await time(async () => {
    for (const f of files) {
      const parsed = readPart10(readFileSync(f));
      // writePart10 returns chunks for writev (the unchanged pixel data is not copied again).
      const fd = openSync(join(outDir, f.slice(ctDir.length + 1)), 'w');
      try {
        writevSync(fd, writePart10(parsed));
      } finally {
        closeSync(fd);
      }
    }
    await run('sync', []);
  });
  results.push({ name: 'dicomgate full parse + write + sync', seconds: rt.seconds, files: files.length, bytes });

  for (const r of results) console.log(fmt(r));
  const by = Object.fromEntries(results.map((r) => [r.name, rate(r)]));
  const ratios = {
    importVsCpFilesPerSec: by['dicomgate import (whole command)'].filesPerSec / by['reference: cp -r + sync'].filesPerSec,
    importExclStartupVsCpFilesPerSec: by['dicomgate import (excl. start-up)'].filesPerSec / by['reference: cp -r + sync'].filesPerSec,
    headerParseFilesPerSec: by['dicomgate header-only parse'].filesPerSec,
    headerParseVsDcmdump: by['dicomgate header-only parse'].filesPerSec / by['reference: dcmdump +sd (one process)'].filesPerSec,
    roundTripVsCpMbPerSec: by['dicomgate full parse + write + sync'].mbPerSec / by['reference: cp -r + sync'].mbPerSec,
  };
  console.log(`import / cp: ${ratios.importVsCpFilesPerSec.toFixed(2)}x whole command, ${ratios.importExclStartupVsCpFilesPerSec.toFixed(2)}x excluding start-up (target >= 0.5x)`);
  console.log(`header-only parse: ${ratios.headerParseFilesPerSec.toFixed(0)} files/s (target >= 5000), ${ratios.headerParseVsDcmdump.toFixed(1)}x dcmdump`);
  console.log(`round trip / cp MB/s: ${ratios.roundTripVsCpMbPerSec.toFixed(2)}x (target >= 0.5x)`);
  if (!opts.keep) rmSync(root, { recursive: true, force: true });
  return { machine: `${cpus().length} x ${cpus()[0]?.model}`, date: new Date().toISOString(), slices: opts.slices, results: results.map((r) => ({ ...r, ...rate(r) })), ratios };
}
