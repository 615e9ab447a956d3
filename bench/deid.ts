// De-identification benchmark (issue 4): on one generated N-slice 512x512 CT, the same run measures
//   dicomgate deid --project basic     files/s, MB/s, CPU seconds, peak RSS
//   gdcmanon -e (GDCM, PS3.15 basic profile, C++, one process over the folder)
//   Orthanc 1.10 POST /studies/{id}/anonymize (synchronous), when /usr/sbin/Orthanc is installed
//   bench/node-copy.mjs: Node copying the same files with deid's I/O pattern, nothing else (the floor)
// Targets (ratios in the same run): >= 1x gdcmanon, >= 5x Orthanc anonymize, peak RSS < 400 MB.
//
// Method (`--repeat N`, default 1), so that one noisy run or one tool's luck with the page cache does
// not decide the ratios:
// - Rounds: dicomgate, the Node copy, gdcmanon, Orthanc anonymize, then again, N times in turn
//   (interleaved, so a slow minute on the shared machine hits every tool, not one). The first three
//   take turns at going first (round 2 starts with the copy, round 3 with gdcmanon), since a run's
//   write cost depends on the run before it. Orthanc imports the series once, before the first round.
// - Same page-cache state for every timed run: just before each one the bench process reads every
//   input file once (the CT folder for dicomgate and gdcmanon; Orthanc's storage folder and index for
//   Orthanc, which reads those and not the folder). The VM reclaims page cache in the background, so
//   without this whichever tool ran first after a pause could be reading from disk.
// - No leftover writeback: `sync` runs before each timed run.
// - Outputs are emptied (truncated to 0 bytes), not deleted, once checked, until the last round is
//   done. Deleting them made the next tool's file creation slower: this VM's ext4 has no journal,
//   and there a new file's inode allocation skips, one by one, every inode freed in the last 60 s
//   (6 min while its inode table block is dirty), by an amount that depended on the order of the
//   tools (profiled: `recently_deleted` and `find_get_block_common` up to 17 % of dicomgate's samples,
//   plus the directory lock spun on meanwhile). Keeping them whole was no better: the kernel's
//   copying of each output into the page cache then went to memory the VM had not used yet (or had
//   given back to the host: free page reporting), which faults on the host; the same 1000 files cost
//   gdcmanon 0.4 s of CPU in the first round and 1.3-2 s in later ones, a regime in which
//   dicomgate, which overlaps that copying with its own work on the second core, gained on gdcmanon
//   (1.0-1.4x, against 0.5x in the first round). Emptying frees the outputs' page cache for the next
//   run, as a machine with a full page cache recycles it, and leaves the inodes allocated.
//   Orthanc's anonymized copies in its storage folder are emptied too (the bench does not read them).
// - Per-round files/s are printed: a round in which the writes were slow for every tool shows.
// - Each tool writes into a fresh folder; dicomgate into a fresh key database each round (a first
//   run, as a user's first `deid` of a series).
// - Reported: per tool the median of the N wall times and, separately, of the N CPU times (user +
//   system of the tool's process: GNU time, or /proc for Orthanc during the call), CPU per file and
//   every round's files/s; the ratios are ratios of the medians. `deid --help` (the CLI's fixed
//   start-up) is timed once per round too.
// The bench also says whether bin/dicomgate ran the build (dist/) or the sources through tsx (a
// source newer than dist/.build-stamp): the latter adds about 0.5 s of start-up and is not comparable.
// DG_BENCH_DICOMGATE=<executable> measures another dicomgate (e.g. a build of an older commit);
// DG_BENCH_BASELINE=<executable> measures one more in the same rounds (before/after in one run).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statfsSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCt } from './gen-ct.ts';
import { fmt, listFiles, rate, rssOf, run, time, totalBytes, type Measure } from './lib.ts';

const ORTHANC = '/usr/sbin/Orthanc';
const GNU_TIME = '/usr/bin/time';
const NODE_COPY = new URL('./node-copy.mjs', import.meta.url).pathname;

/** A Measure plus the CPU seconds (user + system) the tool used: on a shared, loaded machine wall time
 *  depends on what else runs, CPU time much less. */
type CpuMeasure = Measure & { cpuSeconds?: number };

/**
 * run() through GNU time when installed: its %M is the exact peak RSS of the tool (run() samples every
 * 50 ms) and %U/%S its CPU time. Falls back to run()'s sampling.
 */
async function measured(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string; seconds: number; peakRssMb: number; cpuSeconds?: number }> {
  if (!existsSync(GNU_TIME)) return run(cmd, args, { env });
  const out = join(tmpdir(), `dg-bench-time-${process.pid}-${Date.now()}.txt`);
  const r = await run(GNU_TIME, ['-f', '%U %S %M', '-o', out, cmd, ...args], { env });
  try {
    const [user, sys, maxKb] = readFileSync(out, 'utf8').trim().split(/\s+/).slice(-3).map(Number);
    return { ...r, peakRssMb: maxKb / 1024, cpuSeconds: user + sys };
  } finally {
    rmSync(out, { force: true });
  }
}

/** utime + stime of a live process, in seconds (/proc/<pid>/stat fields 14 and 15, USER_HZ = 100). */
function cpuOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Median of numbers (mean of the two middle ones for an even count). */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Every regular file under `dir`, for warming the page cache (no sorting, any depth). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const WARM_BUFFER = Buffer.allocUnsafe(1 << 20);

/** Reads every byte of the files once (into one reused buffer), so they are in the page cache. */
function warm(files: readonly string[]): void {
  for (const f of files) {
    const fd = openSync(f, 'r');
    try {
      while (readSync(fd, WARM_BUFFER, 0, WARM_BUFFER.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

/** Empties the files (see the header: their page cache is freed, their inodes are not). */
function truncateAll(files: readonly string[]): void {
  for (const f of files) truncateSync(f, 0);
}

/** Whether bin/dicomgate will run dist/ (same test as bin/dicomgate: the stamp is newer than every source). */
function runsBuild(): boolean {
  const root = new URL('..', import.meta.url).pathname;
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp) || process.env.DICOMGATE_FROM_SOURCE === '1') return false;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  return statSync(stamp).mtimeMs >= newest(join(root, 'src'));
}

/** One tool's runs and what is reported of them. */
interface Series {
  name: string;
  files: number;
  bytes: number;
  runs: { seconds: number; cpuSeconds?: number; peakRssMb: number }[];
}

function summarize(s: Series): CpuMeasure & { runs: Series['runs']; cpuMsPerFile?: number; filesPerSecRange: [number, number] } {
  const cpus = s.runs.flatMap((r) => (r.cpuSeconds !== undefined ? [r.cpuSeconds] : []));
  const cpuSeconds = cpus.length === s.runs.length ? median(cpus) : undefined;
  const rates = s.runs.map((r) => s.files / r.seconds);
  return {
    name: s.name,
    seconds: median(s.runs.map((r) => r.seconds)),
    files: s.files,
    bytes: s.bytes,
    peakRssMb: Math.max(...s.runs.map((r) => r.peakRssMb)),
    ...(cpuSeconds !== undefined ? { cpuSeconds, cpuMsPerFile: (cpuSeconds * 1000) / s.files } : {}),
    filesPerSecRange: [Math.min(...rates), Math.max(...rates)],
    runs: s.runs,
  };
}

function fmtCpu(m: ReturnType<typeof summarize>): string {
  const cpu = m.cpuSeconds !== undefined ? `  cpu ${m.cpuSeconds.toFixed(2)} s (${(m.files / m.cpuSeconds).toFixed(0)} files/cpu-s, ${(m.cpuMsPerFile ?? 0).toFixed(2)} ms/file)` : '';
  // Every run, in round order: the VM's write cost changes between rounds (see the header).
  const range = m.runs.length > 1 ? `  [files/s by round: ${m.runs.map((r) => (m.files / r.seconds).toFixed(0)).join(' ')}]` : '';
  return `${fmt(m)}${cpu}${range}`;
}

export async function deidBench(opts: { slices: number; keep?: boolean; repeat?: number }): Promise<Record<string, unknown>> {
  const repeat = Math.max(1, Math.floor(opts.repeat ?? 1));
  const root = mkdtempSync(join(tmpdir(), 'dg-bench-deid-'));
  const ctDir = join(root, 'ct');
  process.stderr.write(`generating ${opts.slices}-slice CT in ${ctDir}\n`);
  const files = generateCt(ctDir, opts.slices);
  const bytes = totalBytes(files);
  // With --keep, outputs are kept whole until the end (see the header): dicomgate, gdcmanon and
  // Orthanc's copy per round, plus Orthanc's upload. Refuse up front rather than fill a shared disk.
  const fsStat = statfsSync(root);
  const needed = bytes * ((opts.keep ? (process.env.DG_BENCH_BASELINE ? 4 : 3) * repeat : 1) + 1) * 1.1 + 1e9;
  if (fsStat.bavail * fsStat.bsize < needed) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`not enough free space in ${tmpdir()}: ${(needed / 1e9).toFixed(1)} GB needed for ${repeat} rounds`);
  }
  const notes: string[] = [];
  const fromBuild = process.env.DG_BENCH_DICOMGATE !== undefined || runsBuild();
  if (process.env.DG_BENCH_DICOMGATE !== undefined) notes.push(`dicomgate: ${process.env.DG_BENCH_DICOMGATE} (DG_BENCH_DICOMGATE)`);
  if (!fromBuild) notes.push('bin/dicomgate ran the TypeScript sources through tsx (dist/ missing or older than src/: run `npm run build`); start-up is not comparable');
  const loadBefore = loadavg()[0];

  // DG_BENCH_DICOMGATE: another dicomgate executable (e.g. a build of an older commit) for a before/after.
  const bin = process.env.DG_BENCH_DICOMGATE ?? new URL('../bin/dicomgate', import.meta.url).pathname;
  // DG_BENCH_BASELINE: a second dicomgate executable measured in the same rounds, for a before/after
  // that shares the machine's state (the ratio dicomgate / baseline is printed).
  const baseline = process.env.DG_BENCH_BASELINE
    ? { exe: process.env.DG_BENCH_BASELINE, series: { name: 'baseline: DG_BENCH_BASELINE deid', files: files.length, bytes, runs: [] } as Series }
    : undefined;
  const dg: Series = { name: 'dicomgate deid --project basic', files: files.length, bytes, runs: [] };
  const startups: { seconds: number; cpuSeconds?: number }[] = [];
  const gd: Series = { name: 'reference: gdcmanon -e (one process)', files: files.length, bytes, runs: [] };
  const floor: Series = { name: 'floor: Node copying the files with deid\'s I/O (bench/node-copy.mjs)', files: files.length, bytes, runs: [] };
  let orthancSeries: Series | undefined;

  // gdcmanon -e: basic profile with the Encrypted Attributes Sequence, so it needs a certificate.
  const key = join(root, 'k.pem');
  const cert = join(root, 'c.pem');
  const ssl = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=bench', '-keyout', key, '-out', cert, '-days', '1']);
  if (ssl.code !== 0) throw new Error(`openssl failed: ${ssl.stderr.slice(-500)}`);

  let orthanc: OrthancSession | undefined;
  if (existsSync(ORTHANC)) {
    try {
      orthanc = await OrthancSession.start(root, files);
      orthancSeries = { name: 'reference: Orthanc 1.10 /studies/{id}/anonymize', files: files.length, bytes, runs: [] };
    } catch (e) {
      notes.push(`Orthanc: ${(e as Error).message}`);
    }
  } else notes.push(`Orthanc: ${ORTHANC} not installed`);

  // Before each timed run: no dirty pages of the previous tool left to write back, the inputs cached.
  const settle = async (inputs: readonly string[]): Promise<void> => {
    await run('sync', []);
    warm(inputs);
  };
  try {
    for (let round = 1; round <= repeat; round++) {
      if (repeat > 1) process.stderr.write(`round ${round}/${repeat}\n`);

      // dicomgate deid: the CLI as a user runs it, a fresh key database.
      const deid = async (exe: string, series: Series, tag: string): Promise<void> => {
        const out = join(root, `${tag}-out-${round}`);
        await settle(files);
        const d = await measured(exe, ['deid', ctDir, out, '--project', 'basic', '--data', join(root, `${tag}-data-${round}`)]);
        if (d.code !== 0) throw new Error(`${exe} deid failed (${d.code}): ${d.stderr.slice(-2000)}`);
        const written = listFiles(out).length;
        if (written !== files.length) throw new Error(`${exe} deid wrote ${written} of ${files.length} files`);
        series.runs.push({ seconds: d.seconds, peakRssMb: d.peakRssMb, ...(d.cpuSeconds !== undefined ? { cpuSeconds: d.cpuSeconds } : {}) });
        if (!opts.keep) truncateAll(filesUnder(out));
      };
      // With a baseline, the two alternate which goes first.
      const dicomgateRuns = async (): Promise<void> => {
        if (baseline && round % 2 === 0) await deid(baseline.exe, baseline.series, 'base');
        await deid(bin, dg, 'dg');
        if (baseline && round % 2 === 1) await deid(baseline.exe, baseline.series, 'base');
        // The CLI's fixed cost (Node, the command's modules), to tell it from per-file cost.
        const s = await measured(bin, ['deid', '--help']);
        startups.push({ seconds: s.seconds, ...(s.cpuSeconds !== undefined ? { cpuSeconds: s.cpuSeconds } : {}) });
      };

      // The floor: Node copying the same files with deid's I/O pattern and nothing else (bench/node-copy.mjs).
      const nodeCopy = async (): Promise<void> => {
        const out = join(root, `copy-out-${round}`);
        await settle(files);
        const c = await measured(process.execPath, [NODE_COPY, ctDir, out], { UV_THREADPOOL_SIZE: '16' });
        if (c.code !== 0 || listFiles(out).length !== files.length) throw new Error(`node-copy failed (${c.code}): ${c.stderr.slice(-500)}`);
        floor.runs.push({ seconds: c.seconds, peakRssMb: c.peakRssMb, ...(c.cpuSeconds !== undefined ? { cpuSeconds: c.cpuSeconds } : {}) });
        if (!opts.keep) truncateAll(filesUnder(out));
      };

      const gdcmanon = async (): Promise<void> => {
        const gdcmOut = join(root, `gdcm-out-${round}`);
        mkdirSync(gdcmOut);
        await settle(files);
        const g = await measured('gdcmanon', ['-e', '--continue', '-r', '-i', ctDir, '-o', gdcmOut, '--certificate', cert]);
        const gdFiles = listFiles(gdcmOut).length;
        if (g.code !== 0 || gdFiles !== files.length) notes.push(`round ${round}: gdcmanon exit ${g.code}, ${gdFiles}/${files.length} files: ${g.stderr.slice(-300)}`);
        else gd.runs.push({ seconds: g.seconds, peakRssMb: g.peakRssMb, ...(g.cpuSeconds !== undefined ? { cpuSeconds: g.cpuSeconds } : {}) });
        if (!opts.keep) truncateAll(filesUnder(gdcmOut));
      };

      // The order turns each round: on this VM a run's write cost depends on what ran just before it
      // (memory freed by the previous run's outputs and given back to the host, see the header), so a
      // fixed order could favour one tool in every round.
      const order = [dicomgateRuns, nodeCopy, gdcmanon];
      for (let i = 0; i < order.length; i++) await order[(i + round - 1) % order.length]();

      if (orthanc && orthancSeries) {
        try {
          await settle(orthanc.storedFiles());
          orthancSeries.runs.push(await orthanc.anonymize());
          // Its anonymized copy, checked through the API, is not read again.
          if (!opts.keep) truncateAll(orthanc.newFiles());
        } catch (e) {
          notes.push(`round ${round}: Orthanc: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    await orthanc?.stop();
  }
  if (gd.runs.length === 0) throw new Error(`gdcmanon failed in every round: ${notes.join('; ')}`);

  const results = [summarize(dg), summarize(gd), ...(orthancSeries && orthancSeries.runs.length > 0 ? [summarize(orthancSeries)] : [])];
  const [dgM, gdM] = results;
  const orM = results[2];
  const baseM = baseline ? summarize(baseline.series) : undefined;
  const floorM = summarize(floor);
  for (const r of results) console.log(fmtCpu(r));
  console.log(fmtCpu(floorM));
  if (baseM) {
    console.log(fmtCpu(baseM));
    console.log(
      `dicomgate / baseline (${baseline?.exe}): ${(rate(dgM).filesPerSec / rate(baseM).filesPerSec).toFixed(2)}x files/s, ${((baseM.cpuSeconds ?? NaN) / (dgM.cpuSeconds ?? NaN)).toFixed(2)}x files per CPU second`,
    );
  }
  const dgRate = rate(dgM).filesPerSec;
  const perCpu = (m: CpuMeasure | undefined): number | undefined => (m?.cpuSeconds ? m.files / m.cpuSeconds : undefined);
  const cpuRatio = (m: CpuMeasure | undefined): number | null => {
    const a = perCpu(dgM);
    const b = perCpu(m);
    return a !== undefined && b !== undefined ? a / b : null;
  };
  const startupSeconds = median(startups.map((s) => s.seconds));
  const startupCpus = startups.flatMap((s) => (s.cpuSeconds !== undefined ? [s.cpuSeconds] : []));
  const ratios = {
    vsGdcmanon: dgRate / rate(gdM).filesPerSec,
    /** What Node reaches only copying the bytes, against gdcmanon: the most a Node de-identifier could reach. */
    floorVsGdcmanon: rate(floorM).filesPerSec / rate(gdM).filesPerSec,
    vsFloor: dgRate / rate(floorM).filesPerSec,
    vsOrthancAnonymize: orM ? dgRate / rate(orM).filesPerSec : null,
    cpuVsGdcmanon: cpuRatio(gdM),
    cpuVsOrthancAnonymize: cpuRatio(orM),
    peakRssMb: dgM.peakRssMb ?? 0,
    startupSeconds,
    startupCpuSeconds: startupCpus.length > 0 ? median(startupCpus) : null,
    /** Derived: files/s with the start-up (`deid --help`, same rounds) taken out. */
    dicomgateFilesPerSecAfterStartup: files.length / Math.max(0.001, dgM.seconds - startupSeconds),
  };
  const x = (r: number | null): string => (r === null ? 'n/a' : `${r.toFixed(2)}x`);
  const of = repeat > 1 ? ` (medians of ${repeat} interleaved runs)` : '';
  console.log(`dicomgate / gdcmanon -e: ${x(ratios.vsGdcmanon)} files/s, ${x(ratios.cpuVsGdcmanon)} files per CPU second (target >= 1x)${of}`);
  console.log(`Node copy floor / gdcmanon -e: ${x(ratios.floorVsGdcmanon)} files/s; dicomgate / Node copy floor: ${x(ratios.vsFloor)} files/s${of}`);
  if (orM) console.log(`dicomgate / Orthanc anonymize: ${x(ratios.vsOrthancAnonymize)} files/s, ${x(ratios.cpuVsOrthancAnonymize)} files per CPU second (target >= 5x)${of}`);
  console.log(`dicomgate peak RSS: ${ratios.peakRssMb.toFixed(0)} MB (target < 400 MB)`);
  console.log(
    `dicomgate start-up (deid --help, ${fromBuild ? 'dist/' : 'sources via tsx'}): ${startupSeconds.toFixed(2)} s wall, ${(ratios.startupCpuSeconds ?? 0).toFixed(2)} s CPU; after start-up ${ratios.dicomgateFilesPerSecAfterStartup.toFixed(0)} files/s`,
  );
  for (const n of notes) console.log(`note: ${n}`);
  const loadAfter = loadavg()[0];
  console.log(`1-min load average: ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (${cpus().length} cores)`);
  if (!opts.keep) {
    rmSync(root, { recursive: true, force: true });
    // Writes the freed inodes' table blocks, so a run started soon after this one skips them for 60 s, not 6 min.
    await run('sync', []);
  }
  return {
    machine: `${cpus().length} x ${cpus()[0]?.model}`,
    date: new Date().toISOString(),
    load: { before: loadBefore, after: loadAfter },
    slices: opts.slices,
    repeat,
    dicomgateFrom: fromBuild ? 'dist' : 'tsx',
    results: [...results, floorM].map((r) => ({ ...r, ...rate(r) })),
    ...(baseM ? { baseline: { exe: baseline?.exe, ...baseM, ...rate(baseM) } } : {}),
    startups,
    ratios,
    notes,
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Orthanc on loopback with its own temporary config: the series uploaded once, anonymized per round. */
class OrthancSession {
  private constructor(
    private readonly child: ChildProcess,
    private readonly base: string,
    private readonly dir: string,
    /** The uploaded series' storage files (listed once: later rounds add anonymized copies beside them). */
    private readonly stored: readonly string[],
    private readonly studyId: string,
    private readonly expected: number,
    private readonly log: () => string,
  ) {}

  static async start(root: string, files: readonly string[]): Promise<OrthancSession> {
    const dir = join(root, 'orthanc');
    mkdirSync(dir);
    const httpPort = await freePort();
    const config = {
      Name: 'dg-bench',
      StorageDirectory: join(dir, 'storage'),
      IndexDirectory: join(dir, 'index'),
      HttpPort: httpPort,
      DicomPort: await freePort(),
      DicomServerEnabled: false,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      Plugins: [],
      SaveJobs: false,
      StorageCompression: false,
    };
    writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config));
    const child: ChildProcess = spawn(ORTHANC, [join(dir, 'orthanc.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const base = `http://127.0.0.1:${httpPort}`;
    try {
      await waitFor(async () => (await fetch(`${base}/system`)).ok, 30_000, () => `Orthanc did not start: ${log.slice(-500)}`);
      // Upload with a few requests in flight (Orthanc ingests in its HTTP threads).
      let next = 0;
      let studyId = '';
      const upload = async (): Promise<void> => {
        while (next < files.length) {
          const f = files[next++];
          const res = await fetch(`${base}/instances`, { method: 'POST', body: readFileSync(f) });
          if (!res.ok) throw new Error(`upload HTTP ${res.status}`);
          studyId = ((await res.json()) as { ParentStudy: string }).ParentStudy;
        }
      };
      await Promise.all(Array.from({ length: 4 }, upload));
      return new OrthancSession(child, base, dir, filesUnder(join(dir, 'storage')), studyId, files.length, () => log);
    } catch (e) {
      await stopChild(child);
      throw e;
    }
  }

  /** Storage files other than the upload's: the anonymized copies. */
  newFiles(): string[] {
    const upload = new Set(this.stored);
    return filesUnder(join(this.dir, 'storage')).filter((f) => !upload.has(f));
  }

  /** What the anonymization reads: the uploaded instances and the index. */
  storedFiles(): string[] {
    return [...this.stored, ...filesUnder(join(this.dir, 'index'))];
  }

  /** One timed synchronous anonymization; the study it made is checked (untimed) and kept (see the header). */
  async anonymize(): Promise<{ seconds: number; cpuSeconds: number; peakRssMb: number }> {
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(this.child.pid))), 50);
    const cpu0 = cpuOf(this.child.pid);
    let anon;
    try {
      anon = await time(async () => {
        const res = await fetch(`${this.base}/studies/${this.studyId}/anonymize`, { method: 'POST', body: '{}' });
        if (!res.ok) throw new Error(`anonymize HTTP ${res.status}: ${await res.text()} ${this.log().slice(-300)}`);
        return (await res.json()) as { ID: string };
      });
    } finally {
      clearInterval(sampler);
    }
    const cpuSeconds = cpuOf(this.child.pid) - cpu0;
    const out = (await (await fetch(`${this.base}/studies/${anon.value.ID}`)).json()) as { Series: string[] };
    const series = (await (await fetch(`${this.base}/series/${out.Series[0]}`)).json()) as { Instances: string[] };
    if (series.Instances.length !== this.expected) throw new Error(`anonymized study has ${series.Instances.length} of ${this.expected} instances`);
    return { seconds: anon.seconds, cpuSeconds, peakRssMb: peak / 1024 };
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
}

async function waitFor(check: () => Promise<boolean>, ms: number, message: () => string): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(message());
    await new Promise((r) => setTimeout(r, 200));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const slices = Number(process.argv[2] ?? 1000);
  const r = process.argv.indexOf('--repeat');
  await deidBench({ slices, keep: process.argv.includes('--keep'), ...(r > 0 ? { repeat: Number(process.argv[r + 1]) } : {}) });
}
