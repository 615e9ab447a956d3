// Pipeline benchmark (issue 7), end to end in ONE run: DCMTK storescu (one association, +sd) pushes
// the generated 1000-slice 512x512 CT
//   direct:   straight into a DCMTK storescp (-od, no fsync)
//   pipeline: into `dicomgate serve` at called AE RESEARCH_IN, whose pipeline de-identifies (project
//             basic), stores durably (fsync, index commit) and forwards each instance (trigger
//             `instance`, one durable route job each) over C-STORE to another DCMTK storescp
// The clock runs from storescu's start until the far storescp holds every instance. Afterwards the
// far end is checked: every instance arrived, and a sample of 25 carries PatientIdentityRemoved=YES
// and none of the identifiers planted by gen-ct.ts (names, ids, dates, institution, original UIDs).
// Target: pipeline >= 0.5x direct instances/s.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { generateCt } from './gen-ct.ts';
import { rssOf, totalBytes } from './lib.ts';
import { freePort, startStorescp, type RunningServer } from './servers.ts';

export interface PipelineBenchOptions {
  slices: number;
  keep?: boolean;
}

// What gen-ct.ts plants; none of it may reach the far end.
const PLANTED = ['Bench^Patient', 'BENCH0001', '19600101', 'Bench Hospital', 'Referrer^Bench', 'ACC0001', '20240115'];

export async function pipelineBench(opts: PipelineBenchOptions): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), 'dg-bench-pipeline-'));
  try {
    const ctDir = join(work, 'ct');
    const files = generateCt(ctDir, opts.slices);
    const bytes = totalBytes(files);
    const originalStudyUid = /\(0020,000d\) UI \[([^\]]+)\]/.exec(execFileSync('dcmdump', ['-q', '+P', '0020,000d', files[0]!], { encoding: 'utf8' }))?.[1] ?? '';
    console.log(`generated ${files.length} CT slices, ${(bytes / 1e6).toFixed(0)} MB`);

    // --- direct: storescu -> storescp
    const directOut = join(work, 'direct');
    const direct = await startStorescp(directOut);
    const d = await push(direct, ctDir, directOut, files.length, () => undefined);
    await direct.stop();
    const directRate = files.length / d.seconds;
    console.log(`direct   storescu -> storescp                  ${directRate.toFixed(1).padStart(7)} inst/s ${(bytes / 1e6 / d.seconds).toFixed(1).padStart(7)} MB/s (${d.seconds.toFixed(2)} s)`);

    // --- pipeline: storescu -> dicomgate (deid, store, route) -> storescp
    const farOut = join(work, 'far');
    const far = await startStorescp(farOut);
    const dataDir = join(work, 'dg-data');
    const cfg = join(work, 'dicomgate.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        destinations: { FAR: { kind: 'dicom', aet: far.aet, host: '127.0.0.1', port: far.port } },
        pipelines: {
          research: {
            intake: { calledAe: 'RESEARCH_IN' },
            stages: [{ deid: { project: 'basic' } }, { store: true }, { route: { destination: 'FAR', trigger: 'instance' } }],
          },
        },
      }),
    );
    const gw = await startGateway(dataDir, cfg);
    let peak = 0;
    const p = await push({ ...gw, aet: 'RESEARCH_IN' }, ctDir, farOut, files.length, () => (peak = Math.max(peak, rssOf(gw.pid))));
    const pipelineRate = files.length / p.seconds;
    console.log(`pipeline storescu -> dicomgate(deid,store,route) -> storescp ${pipelineRate.toFixed(1).padStart(7)} inst/s ${(bytes / 1e6 / p.seconds).toFixed(1).padStart(7)} MB/s (${p.seconds.toFixed(2)} s, storescu done after ${p.pushSeconds.toFixed(2)} s, dicomgate peak RSS ${(peak / 1024).toFixed(0)} MB)`);
    await gw.stop();
    await far.stop();

    const check = checkFarEnd(farOut, files.length, originalStudyUid);
    const ratio = pipelineRate / directRate;
    console.log(`ratio pipeline/direct ${ratio.toFixed(2)} (target >= 0.5); far end: ${check.arrived}/${files.length} arrived, sample of ${check.sampled}: ${check.deidentified} with PatientIdentityRemoved=YES, planted identifiers found: ${check.leaks.length === 0 ? 'none' : check.leaks.join(', ')}`);
    if (check.arrived !== files.length || check.deidentified !== check.sampled || check.leaks.length > 0) throw new Error('pipeline bench: far end check failed');
    return {
      slices: files.length,
      bytes,
      direct: { seconds: d.seconds, instancesPerSec: directRate },
      pipeline: { seconds: p.seconds, pushSeconds: p.pushSeconds, instancesPerSec: pipelineRate, peakRssMb: peak / 1024 },
      ratio,
      farEnd: check,
      load: loadavg(),
    };
  } finally {
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
  }
}

/** storescu of the folder; resolves once `outDir` holds `expected` files (the far end got them all). */
export async function push(s: { aet: string; port: number }, folder: string, outDir: string, expected: number, sample: () => void): Promise<{ seconds: number; pushSeconds: number }> {
  const t0 = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const pushed = new Promise<number>((resolve, reject) => {
    const child = spawn('storescu', ['-aet', 'BENCHSCU', '-aec', s.aet, '+sd', '127.0.0.1', String(s.port), folder], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(elapsed()) : reject(new Error(`storescu exited ${code}: ${err}`))));
  });
  let pushSeconds = 0;
  let failed: unknown;
  void pushed.then((t) => (pushSeconds = t), (e: unknown) => (failed = e));
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    sample();
    // storescp names files <modality>.<SOP UID>; the last one may still be being written when it
    // is counted (one file's write time at most), and is read only after the servers stopped.
    if (countFiles(outDir) >= expected) break;
    if (Date.now() > deadline) throw new Error(`only ${countFiles(outDir)}/${expected} arrived`);
    if (failed !== undefined) throw failed;
    await new Promise((r) => setTimeout(r, 20));
  }
  await pushed;
  return { seconds: elapsed(), pushSeconds };
}

function countFiles(dir: string): number {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.')).length;
  } catch {
    return 0;
  }
}

function checkFarEnd(dir: string, expected: number, originalStudyUid: string): { arrived: number; sampled: number; deidentified: number; leaks: string[] } {
  const names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  const step = Math.max(1, Math.floor(names.length / 25));
  const sample = names.filter((_, i) => i % step === 0).slice(0, 25);
  let deidentified = 0;
  const leaks = new Set<string>();
  for (const n of sample) {
    const path = join(dir, n);
    const dump = execFileSync('dcmdump', ['-q', '+P', '0012,0062', path], { encoding: 'utf8' });
    if (/\(0012,0062\) CS \[YES\]/.test(dump)) deidentified++;
    const raw = readFileSync(path).toString('latin1');
    for (const p of [...PLANTED, originalStudyUid]) if (p && raw.includes(p)) leaks.add(p === originalStudyUid ? 'original StudyInstanceUID' : p);
  }
  return { arrived: names.length === expected ? expected : names.length, sampled: sample.length, deidentified, leaks: [...leaks] };
}

/** `bin/dicomgate serve --dev --config <cfg>` on a fresh data folder. */
export async function startGateway(dataDir: string, cfg: string): Promise<RunningServer> {
  mkdirSync(dataDir, { recursive: true });
  const bin = new URL('../bin/dicomgate', import.meta.url).pathname;
  const child = spawn(bin, ['serve', '--dev', '--config', cfg, '--data', dataDir, '--dicom-port', '0', '--http-port', String(await freePort()), '--host', '127.0.0.1'], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
  const t0 = Date.now();
  let port = 0;
  while (port === 0) {
    const m = /listening dicom=(\d+)/.exec(log);
    if (m) port = Number(m[1]);
    else if (child.exitCode !== null) throw new Error(`dicomgate exited: ${log.slice(-2000)}`);
    else if (Date.now() - t0 > 60_000) throw new Error(`dicomgate did not start: ${log.slice(-2000)}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    name: 'dicomgate',
    aet: 'RESEARCH_IN',
    port,
    pid: child.pid!,
    peakRssMb: () => rssOf(child.pid) / 1024,
    resetPeak: () => undefined,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
