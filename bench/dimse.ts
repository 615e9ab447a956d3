// DICOM network benchmark (issue 3): in ONE run, DCMTK storescu (TCP_NODELAY=1, +sd folder mode)
// pushes the generated 1000-slice 512x512 CT with 1 and with 4 associations (4 = the files split
// into 4 folders, 4 storescu processes in parallel), and N small instances (64x64 CT), into:
//   dicomgate serve (fresh data folder; acknowledges only durable, indexed instances)
//   DCMTK storescp  (-od into a fresh folder, no fsync) + one `sync` after the push, timed with it
//   Orthanc 1.10    (SQLite index, own config on loopback), when /usr/sbin/Orthanc is installed
//   dicomgate gateway: the same server with the called AE title GATEWAY bound to the project
//                   `basic` (issue 4: every instance de-identified before it is archived)
// Each server is started fresh for each push, warmed up with 500 small instances (not timed) and
// checked to hold every instance afterwards; with --repeat the rounds interleave the servers, and each
// row is the median of its server's rounds. Prints instances/s, MB/s, peak RSS of the server, and the ratios.
// Targets: dicomgate >= 2x Orthanc and >= 0.6x storescp+sync, peak RSS < 300 MB; the gateway
// (de-identifying) >= 1.5x Orthanc's plain ingest of the same series.
import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { generateCt } from './gen-ct.ts';
import { cpuOf, listFiles, run, totalBytes } from './lib.ts';
import { ORTHANC, orthancInstanceCount, startDicomgate, startOrthanc, startStorescp, type RunningServer } from './servers.ts';

export interface DimseBenchOptions {
  slices: number;
  /** Small instances (64x64) to push; 0 skips. Default 30,000. */
  small?: number;
  /** Runs of each CT push (the median is reported; the small push runs once). Default 1. */
  repeat?: number;
  /** Subset of servers: dicomgate, gateway, storescp, orthanc. Default all (Orthanc when installed). */
  servers?: string[];
  keep?: boolean;
}

type ServerName = 'dicomgate' | 'gateway' | 'storescp' | 'orthanc';

interface Workload {
  name: string;
  /** One folder per association. */
  folders: string[];
  files: number;
  bytes: number;
  servers: ServerName[];
  small?: boolean;
}

interface Sample {
  seconds: number;
  peakRssMb: number;
  load: number;
  /** The server's CPU during the push, ms per instance (user, system; all its threads). */
  cpuMsPerInstance: { user: number; sys: number };
}

interface Row {
  workload: string;
  server: string;
  associations: number;
  files: number;
  seconds: number;
  instancesPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
  runs: Sample[];
}

export async function dimseBench(opts: DimseBenchOptions): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), 'dg-bench-dimse-'));
  const repeat = Math.max(1, opts.repeat ?? 1);
  const smallCount = opts.small ?? 30_000;
  const hasOrthanc = existsSync(ORTHANC);
  const wanted = new Set<ServerName>((opts.servers as ServerName[] | undefined) ?? ['dicomgate', 'gateway', 'storescp', ...(hasOrthanc ? ['orthanc' as const] : [])]);
  if (wanted.has('orthanc') && !hasOrthanc) throw new Error(`${ORTHANC} is not installed`);
  const all: ServerName[] = (['storescp', 'orthanc', 'dicomgate', 'gateway'] as const).filter((s) => wanted.has(s));
  try {
    process.stderr.write(`generating ${opts.slices}-slice 512x512 CT in ${root}\n`);
    const ct = generateCt(join(root, 'ct'), opts.slices);
    const workloads: Workload[] = [
      { name: `CT ${opts.slices}x512x512`, folders: [join(root, 'ct')], files: ct.length, bytes: totalBytes(ct), servers: all },
      { name: `CT ${opts.slices}x512x512`, folders: split(ct, join(root, 'ct4'), 4), files: ct.length, bytes: totalBytes(ct), servers: all },
    ];
    if (smallCount > 0) {
      process.stderr.write(`generating ${smallCount} small (64x64) instances\n`);
      const small = generateCt(join(root, 'small'), smallCount, 64);
      // Orthanc takes minutes on these; it is left out of the small push (the CT pushes compare it).
      workloads.push({ name: `small ${smallCount}x64x64`, folders: split(small, join(root, 'small4'), 4), files: small.length, bytes: totalBytes(small), servers: all.filter((s) => s !== 'orthanc' && s !== 'gateway'), small: true });
    }
    // Pushed into every server before each timed push (not timed, not counted): a server that
    // has just started compiles and loads its code paths on the first associations.
    const warmup = generateCt(join(root, 'warmup'), WARMUP_INSTANCES, 64);
    await run('sync', []);

    const rows: Row[] = [];
    for (const w of workloads) {
      // Rounds interleave the servers (storescp, Orthanc, dicomgate, gateway, then again), so a VM that
      // drifts during the run (seen here: every server 1.4-2x slower an hour later) moves every
      // server's median alike, not only the ones measured last. The small push takes minutes: once.
      const times = w.small ? 1 : repeat;
      const runsOf = new Map<ServerName, Sample[]>(w.servers.map((s) => [s, []]));
      for (let i = 0; i < times; i++) {
        for (const server of w.servers) runsOf.get(server)!.push(await pushOnce(root, server, w, join(root, 'warmup'), warmup.length));
      }
      for (const server of w.servers) {
        const runs = runsOf.get(server)!;
        // The median; of an even count the faster middle run (so 2 runs report the better one).
        const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
        const median = sorted[Math.floor((sorted.length - 1) / 2)];
        const row: Row = {
          workload: w.name,
          server: SERVER_LABEL[server],
          associations: w.folders.length,
          files: w.files,
          seconds: median.seconds,
          instancesPerSec: w.files / median.seconds,
          mbPerSec: w.bytes / 1e6 / median.seconds,
          peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
          runs,
        };
        rows.push(row);
        console.log(formatRow(row));
      }
    }

    const ratios: Record<string, number> = {};
    const find = (w: string, a: number, s: string) => rows.find((r) => r.workload === w && r.associations === a && r.server.startsWith(s));
    console.log('');
    for (const w of workloads) {
      const a = w.folders.length;
      const dg = rows.find((r) => r.workload === w.name && r.associations === a && r.server === SERVER_LABEL.dicomgate);
      const gw = rows.find((r) => r.workload === w.name && r.associations === a && r.server === SERVER_LABEL.gateway);
      if (dg) {
        for (const [ref, target, label] of [['Orthanc', 2, 'orthanc'], ['storescp', 0.6, 'storescp']] as const) {
          const r = find(w.name, a, ref);
          if (!r) continue;
          const ratio = dg.instancesPerSec / r.instancesPerSec;
          ratios[`${w.name} ${a}-assoc vs ${label}`] = ratio;
          console.log(`${w.name}, ${a} assoc: dicomgate / ${r.server}: ${ratio.toFixed(2)}x (target >= ${target}x)`);
        }
        console.log(`${w.name}, ${a} assoc: dicomgate peak RSS ${dg.peakRssMb.toFixed(0)} MB (target < 300 MB)`);
      }
      const orthanc = find(w.name, a, 'Orthanc');
      if (gw && orthanc) {
        const ratio = gw.instancesPerSec / orthanc.instancesPerSec;
        ratios[`${w.name} ${a}-assoc gateway vs orthanc`] = ratio;
        console.log(`${w.name}, ${a} assoc: dicomgate gateway (de-id, project basic) / ${orthanc.server} plain: ${ratio.toFixed(2)}x (target >= 1.5x); peak RSS ${gw.peakRssMb.toFixed(0)} MB (target < 400 MB)`);
      }
    }
    return {
      machine: `${cpus().length} x ${cpus()[0]?.model}`,
      date: new Date().toISOString(),
      slices: opts.slices,
      small: smallCount,
      repeat,
      rows,
      ratios,
    };
  } finally {
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  }
}

/** Hard links of `files` split round-robin into `n` folders under `dir`. */
function split(files: string[], dir: string, n: number): string[] {
  const folders = Array.from({ length: n }, (_, i) => join(dir, String(i)));
  for (const f of folders) mkdirSync(f, { recursive: true });
  files.forEach((f, i) => linkSync(f, join(folders[i % n], basename(f))));
  return folders;
}

/**
 * Small instances pushed (untimed) before each timed push, into every server alike. 500, not 20:
 * a long-running server's per-instance code is optimised by V8's JIT, and with 20 the first few
 * hundred timed instances still ran unoptimised while the compiler threads took CPU (measured:
 * 3.0 ms vs 2.45 ms of server CPU per 512x512 slice after 3 vs 750 warm-up instances).
 */
const WARMUP_INSTANCES = 500;

const SERVER_LABEL: Record<ServerName, string> = {
  storescp: 'storescp + sync',
  orthanc: 'Orthanc 1.10 (SQLite)',
  dicomgate: 'dicomgate',
  gateway: 'dicomgate gateway (de-id)',
};

async function pushOnce(root: string, server: ServerName, w: Workload, warmupDir: string, warmupCount: number): Promise<Sample> {
  const dir = mkdtempSync(join(root, `${server}-`));
  let s: RunningServer | undefined;
  try {
    s =
      server === 'dicomgate' || server === 'gateway'
        ? await startDicomgate(dir, { gateway: server === 'gateway' })
        : server === 'storescp'
          ? await startStorescp(dir)
          : await startOrthanc(dir);
    await storescu(s, warmupDir);
    await run('sync', []);
    s.resetPeak();
    const cpu0 = cpuOf(s.pid);
    const load = loadavg()[0];
    const t0 = process.hrtime.bigint();
    await Promise.all(w.folders.map((f) => storescu(s!, f)));
    if (server === 'storescp') await run('sync', []);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const peakRssMb = s.peakRssMb();
    const cpu1 = cpuOf(s.pid);
    const cpuMsPerInstance = { user: ((cpu1.user - cpu0.user) * 1000) / w.files, sys: ((cpu1.sys - cpu0.sys) * 1000) / w.files };
    const stored = await countStored(server, s, dir);
    if (stored !== w.files + warmupCount) throw new Error(`${server} holds ${stored} of ${w.files} + ${warmupCount} instances after the push`);
    process.stderr.write(`  ${server} ${w.name} ${w.folders.length} assoc: ${seconds.toFixed(2)} s, load ${load.toFixed(1)}, server CPU ${cpuMsPerInstance.user.toFixed(2)} ms user + ${cpuMsPerInstance.sys.toFixed(2)} ms sys per instance\n`);
    return { seconds, peakRssMb, load, cpuMsPerInstance };
  } finally {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function storescu(s: RunningServer, folder: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('storescu', ['-aet', 'BENCHSCU', '-aec', s.aet, '+sd', '127.0.0.1', String(s.port), folder], {
      env: { ...process.env, TCP_NODELAY: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`storescu into ${s.name} exited ${code}: ${err}`))));
  });
}

async function countStored(server: ServerName, s: RunningServer, dir: string): Promise<number> {
  if (server === 'storescp') return listFiles(dir).length;
  if (server === 'orthanc') return orthancInstanceCount(s);
  // dicomgate and its gateway: rows in the index (the gateway's are the de-identified copies).
  const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function formatRow(r: Row): string {
  return `${r.workload.padEnd(20)} ${String(r.associations).padStart(1)} assoc  ${r.server.padEnd(26)} ${r.instancesPerSec.toFixed(0).padStart(6)} inst/s ${r.mbPerSec.toFixed(1).padStart(7)} MB/s  (${r.seconds.toFixed(2)} s)  peak RSS ${r.peakRssMb.toFixed(0)} MB`;
}
