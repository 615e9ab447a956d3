// De-identification benchmark (issue 4): on one generated N-slice 512x512 CT, in ONE run:
//   dicomgate deid --project basic     files/s, MB/s, peak RSS
//   gdcmanon -e (GDCM, PS3.15 basic profile, C++, one process over the folder)
//   Orthanc 1.10 POST /studies/{id}/anonymize (synchronous), when /usr/sbin/Orthanc is installed
// Targets (ratios in the same run): >= 1x gdcmanon, >= 5x Orthanc anonymize, peak RSS < 400 MB.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCt } from './gen-ct.ts';
import { fmt, listFiles, rate, rssOf, run, time, totalBytes, type Measure } from './lib.ts';

const ORTHANC = '/usr/sbin/Orthanc';
const GNU_TIME = '/usr/bin/time';

/** A Measure plus the CPU seconds (user + system) the tool used: on a shared, loaded machine wall time
 *  depends on what else runs, CPU time much less. */
type CpuMeasure = Measure & { cpuSeconds?: number };

/**
 * run() through GNU time when installed: its %M is the exact peak RSS of the tool (run() samples every
 * 50 ms) and %U/%S its CPU time. Falls back to run()'s sampling.
 */
async function measured(cmd: string, args: string[]): Promise<{ code: number; stderr: string; seconds: number; peakRssMb: number; cpuSeconds?: number }> {
  if (!existsSync(GNU_TIME)) return run(cmd, args);
  const out = join(tmpdir(), `dg-bench-time-${process.pid}-${Date.now()}.txt`);
  const r = await run(GNU_TIME, ['-f', '%U %S %M', '-o', out, cmd, ...args]);
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

function fmtCpu(m: CpuMeasure): string {
  return m.cpuSeconds !== undefined ? `${fmt(m)}  cpu ${m.cpuSeconds.toFixed(2)} s (${(m.files / m.cpuSeconds).toFixed(0)} files/cpu-s)` : fmt(m);
}

export async function deidBench(opts: { slices: number; keep?: boolean }): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), 'dg-bench-deid-'));
  const ctDir = join(root, 'ct');
  process.stderr.write(`generating ${opts.slices}-slice CT in ${ctDir}\n`);
  const files = generateCt(ctDir, opts.slices);
  const bytes = totalBytes(files);
  const results: CpuMeasure[] = [];
  const notes: string[] = [];
  const loadBefore = loadavg()[0];
  await run('sync', []);

  // dicomgate deid: the CLI as a user runs it, a fresh key database.
  const bin = new URL('../bin/dicomgate', import.meta.url).pathname;
  const dgOut = join(root, 'dg-out');
  const dg = await measured(bin, ['deid', ctDir, dgOut, '--project', 'basic', '--data', join(root, 'dg-data')]);
  if (dg.code !== 0) throw new Error(`dicomgate deid failed (${dg.code}): ${dg.stderr.slice(-2000)}`);
  const dgFiles = listFiles(dgOut).length;
  if (dgFiles !== files.length) throw new Error(`dicomgate deid wrote ${dgFiles} of ${files.length} files`);
  results.push({ name: 'dicomgate deid --project basic', seconds: dg.seconds, files: files.length, bytes, peakRssMb: dg.peakRssMb, cpuSeconds: dg.cpuSeconds });
  // The CLI's fixed cost (Node, the TypeScript loader, the command's modules), to tell it from per-file cost.
  const startup = await measured(bin, ['deid', '--help']);

  // gdcmanon -e: basic profile with the Encrypted Attributes Sequence, so it needs a certificate.
  const key = join(root, 'k.pem');
  const cert = join(root, 'c.pem');
  const ssl = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=bench', '-keyout', key, '-out', cert, '-days', '1']);
  if (ssl.code !== 0) throw new Error(`openssl failed: ${ssl.stderr.slice(-500)}`);
  const gdcmOut = join(root, 'gdcm-out');
  mkdirSync(gdcmOut);
  const gd = await measured('gdcmanon', ['-e', '--continue', '-r', '-i', ctDir, '-o', gdcmOut, '--certificate', cert]);
  const gdFiles = listFiles(gdcmOut).length;
  if (gd.code !== 0 || gdFiles !== files.length) notes.push(`gdcmanon exit ${gd.code}, ${gdFiles}/${files.length} files: ${gd.stderr.slice(-300)}`);
  results.push({ name: 'reference: gdcmanon -e (one process)', seconds: gd.seconds, files: gdFiles, bytes: (bytes * gdFiles) / files.length, peakRssMb: gd.peakRssMb, cpuSeconds: gd.cpuSeconds });

  // Orthanc 1.10: upload, then time the synchronous study anonymization.
  let orthanc: CpuMeasure | undefined;
  if (existsSync(ORTHANC)) {
    try {
      orthanc = await orthancAnonymize(root, files, bytes);
      results.push(orthanc);
    } catch (e) {
      notes.push(`Orthanc: ${(e as Error).message}`);
    }
  } else notes.push(`Orthanc: ${ORTHANC} not installed`);

  for (const r of results) console.log(fmtCpu(r));
  const dgRate = rate(results[0]).filesPerSec;
  const perCpu = (m: CpuMeasure | undefined): number | undefined => (m?.cpuSeconds ? m.files / m.cpuSeconds : undefined);
  const cpuRatio = (m: CpuMeasure | undefined): number | null => {
    const a = perCpu(results[0]);
    const b = perCpu(m);
    return a !== undefined && b !== undefined ? a / b : null;
  };
  const ratios = {
    vsGdcmanon: dgRate / rate(results[1]).filesPerSec,
    vsOrthancAnonymize: orthanc ? dgRate / rate(orthanc).filesPerSec : null,
    cpuVsGdcmanon: cpuRatio(results[1]),
    cpuVsOrthancAnonymize: cpuRatio(orthanc),
    peakRssMb: dg.peakRssMb,
    startupSeconds: startup.seconds,
    startupCpuSeconds: startup.cpuSeconds ?? null,
    /** Derived: files/s with the start-up (`deid --help`, same run) taken out. */
    dicomgateFilesPerSecAfterStartup: files.length / Math.max(0.001, dg.seconds - startup.seconds),
  };
  const x = (r: number | null): string => (r === null ? 'n/a' : `${r.toFixed(2)}x`);
  console.log(`dicomgate / gdcmanon -e: ${x(ratios.vsGdcmanon)} files/s, ${x(ratios.cpuVsGdcmanon)} files per CPU second (target >= 1x)`);
  if (orthanc) console.log(`dicomgate / Orthanc anonymize: ${x(ratios.vsOrthancAnonymize)} files/s, ${x(ratios.cpuVsOrthancAnonymize)} files per CPU second (target >= 5x)`);
  console.log(`dicomgate peak RSS: ${dg.peakRssMb.toFixed(0)} MB (target < 400 MB)`);
  console.log(`dicomgate start-up (deid --help): ${startup.seconds.toFixed(2)} s wall, ${(startup.cpuSeconds ?? 0).toFixed(2)} s CPU; after start-up ${ratios.dicomgateFilesPerSecAfterStartup.toFixed(0)} files/s`);
  for (const n of notes) console.log(`note: ${n}`);
  const loadAfter = loadavg()[0];
  console.log(`1-min load average: ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (${cpus().length} cores)`);
  if (!opts.keep) rmSync(root, { recursive: true, force: true });
  return {
    machine: `${cpus().length} x ${cpus()[0]?.model}`,
    date: new Date().toISOString(),
    load: { before: loadBefore, after: loadAfter },
    slices: opts.slices,
    results: results.map((r) => ({ ...r, ...rate(r) })),
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

async function orthancAnonymize(root: string, files: string[], bytes: number): Promise<CpuMeasure> {
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
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid))), 50);
    const cpu0 = cpuOf(child.pid);
    const anon = await time(async () => {
      const res = await fetch(`${base}/studies/${studyId}/anonymize`, { method: 'POST', body: '{}' });
      if (!res.ok) throw new Error(`anonymize HTTP ${res.status}: ${await res.text()}`);
      return (await res.json()) as { ID: string };
    });
    clearInterval(sampler);
    const cpuSeconds = cpuOf(child.pid) - cpu0;
    const out = (await (await fetch(`${base}/studies/${anon.value.ID}`)).json()) as { Series: string[] };
    const series = (await (await fetch(`${base}/series/${out.Series[0]}`)).json()) as { Instances: string[] };
    if (series.Instances.length !== files.length) throw new Error(`anonymized study has ${series.Instances.length} of ${files.length} instances`);
    return { name: 'reference: Orthanc 1.10 /studies/{id}/anonymize', seconds: anon.seconds, files: files.length, bytes, peakRssMb: peak / 1024, cpuSeconds };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
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
  await deidBench({ slices, keep: process.argv.includes('--keep') });
}
