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
// PIPELINE_BENCH_VARIANTS / _BUILDS / _ROUNDS / _DIRECT (see pipelineBench) add pipelines without
// deid or route and interleaved A/B runs of two checkouts, with dicomgate's CPU per instance.
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

/**
 * The pipeline shapes to push into. `deid-route` is issue 7's target; the others separate the
 * pipeline's own cost (route) from the intake's (deid, store).
 */
const VARIANTS = {
  'deid-route': { deid: true, route: true },
  'deid-store': { deid: true, route: false },
  'store-route': { deid: false, route: true },
  store: { deid: false, route: false },
} as const;
type Variant = keyof typeof VARIANTS;

interface PipelineRun {
  variant: Variant;
  build: string;
  seconds: number;
  pushSeconds: number;
  instancesPerSec: number;
  peakRssMb: number;
  /** dicomgate's CPU (utime + stime from /proc) per instance, ms, from the first byte to the last forward. */
  cpuMsPerInstance: { user: number; sys: number };
  /** The far storescp's CPU per instance (ms): work the machine does for the pipeline's forwards. */
  farCpuMsPerInstance?: number;
}

/**
 * Environment (bench/run.ts has no pipeline-specific flags):
 * - PIPELINE_BENCH_VARIANTS: comma list of deid-route (default), deid-store, store-route, store;
 * - PIPELINE_BENCH_BUILDS: comma list of `label=/path/to/checkout` whose bin/dicomgate to run
 *   (default this checkout), for interleaved A/B runs of two builds on the same machine;
 * - PIPELINE_BENCH_ROUNDS: how often the whole set (every build x variant, interleaved) runs;
 * - PIPELINE_BENCH_DIRECT=0 skips the direct storescu -> storescp reference.
 */
export async function pipelineBench(opts: PipelineBenchOptions): Promise<Record<string, unknown>> {
  const env = process.env;
  const variants = (env.PIPELINE_BENCH_VARIANTS ?? 'deid-route').split(',').map((v) => v.trim()) as Variant[];
  for (const v of variants) if (!(v in VARIANTS)) throw new Error(`PIPELINE_BENCH_VARIANTS: unknown ${v} (known: ${Object.keys(VARIANTS).join(', ')})`);
  const here = new URL('..', import.meta.url).pathname;
  const builds = (env.PIPELINE_BENCH_BUILDS ?? `this=${here}`).split(',').map((b) => {
    const [label, path] = b.includes('=') ? (b.split('=', 2) as [string, string]) : [b, b];
    return { label, bin: join(path, 'bin', 'dicomgate') };
  });
  const rounds = Math.max(1, Number(env.PIPELINE_BENCH_ROUNDS ?? 1));
  const work = mkdtempSync(join(tmpdir(), 'dg-bench-pipeline-'));
  try {
    const ctDir = join(work, 'ct');
    const files = generateCt(ctDir, opts.slices);
    const bytes = totalBytes(files);
    const originalStudyUid = /\(0020,000d\) UI \[([^\]]+)\]/.exec(execFileSync('dcmdump', ['-q', '+P', '0020,000d', files[0]!], { encoding: 'utf8' }))?.[1] ?? '';
    console.log(`generated ${files.length} CT slices, ${(bytes / 1e6).toFixed(0)} MB`);

    // --- direct: storescu -> storescp
    let directRate: number | undefined;
    let directSeconds: number | undefined;
    if (env.PIPELINE_BENCH_DIRECT !== '0') {
      const directOut = join(work, 'direct');
      const direct = await startStorescp(directOut);
      const d = await push(direct, ctDir, () => countFiles(directOut) >= files.length, () => undefined);
      await direct.stop();
      directSeconds = d.seconds;
      directRate = files.length / d.seconds;
      console.log(`direct   storescu -> storescp                  ${directRate.toFixed(1).padStart(7)} inst/s ${(bytes / 1e6 / d.seconds).toFixed(1).padStart(7)} MB/s (${d.seconds.toFixed(2)} s)`);
    }

    // --- pipeline: storescu -> dicomgate (deid?, store, route?) -> storescp
    const runs: PipelineRun[] = [];
    let check: ReturnType<typeof checkFarEnd> | undefined;
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        for (const build of builds) {
          const shape = VARIANTS[variant];
          const tag = `${variant}-${build.label}-${round}`;
          const farOut = join(work, `far-${tag}`);
          const far = shape.route ? await startStorescp(farOut) : undefined;
          const cfg = join(work, `dicomgate-${tag}.json`);
          writeFileSync(
            cfg,
            JSON.stringify({
              ...(far ? { destinations: { FAR: { kind: 'dicom', aet: far.aet, host: '127.0.0.1', port: far.port } } } : {}),
              pipelines: {
                research: {
                  intake: { calledAe: 'RESEARCH_IN' },
                  stages: [
                    ...(shape.deid ? [{ deid: { project: 'basic' } }] : []),
                    { store: true },
                    ...(far ? [{ route: { destination: 'FAR', trigger: 'instance' } }] : []),
                  ],
                },
              },
            }),
          );
          const gw = await startGateway(join(work, `dg-data-${tag}`), cfg, build.bin);
          let peak = 0;
          const cpu0 = cpuTicks(gw.pid);
          const farCpu0 = far ? cpuTicks(far.pid) : undefined;
          // Without a route the last acknowledgement is the end: every instance is durably stored then.
          const finished = far ? () => countFiles(farOut) >= files.length : undefined;
          const p = await push({ ...gw, aet: 'RESEARCH_IN' }, ctDir, finished, () => (peak = Math.max(peak, rssOf(gw.pid))));
          const cpu1 = cpuTicks(gw.pid);
          const farCpu1 = far ? cpuTicks(far.pid) : undefined;
          await gw.stop();
          await far?.stop();
          const perInst = (t: number) => (t * 10) / files.length; // ticks of 10 ms
          const run: PipelineRun = {
            variant,
            build: build.label,
            seconds: p.seconds,
            pushSeconds: p.pushSeconds,
            instancesPerSec: files.length / p.seconds,
            peakRssMb: peak / 1024,
            cpuMsPerInstance: { user: perInst(cpu1.user - cpu0.user), sys: perInst(cpu1.sys - cpu0.sys) },
            ...(farCpu0 && farCpu1 ? { farCpuMsPerInstance: perInst(farCpu1.user + farCpu1.sys - farCpu0.user - farCpu0.sys) } : {}),
          };
          runs.push(run);
          const what = `${variant}${builds.length > 1 ? `@${build.label}` : ''}`.padEnd(18);
          console.log(
            `pipeline ${what} ${run.instancesPerSec.toFixed(1).padStart(7)} inst/s ${(bytes / 1e6 / p.seconds).toFixed(1).padStart(7)} MB/s (${p.seconds.toFixed(2)} s, storescu done after ${p.pushSeconds.toFixed(2)} s) ` +
              `dicomgate CPU ${run.cpuMsPerInstance.user.toFixed(2)}+${run.cpuMsPerInstance.sys.toFixed(2)} ms/inst (user+sys)${run.farCpuMsPerInstance !== undefined ? `, far storescp ${run.farCpuMsPerInstance.toFixed(2)} ms/inst` : ''}, peak RSS ${run.peakRssMb.toFixed(0)} MB, load ${loadavg()[0]!.toFixed(2)}`,
          );
          if (far) {
            const c = checkFarEnd(farOut, files.length, originalStudyUid, shape.deid);
            if (c.arrived !== files.length || c.deidentified !== c.sampled || c.leaks.length > 0) {
              throw new Error(`pipeline bench (${tag}): far end check failed: ${JSON.stringify(c)}`);
            }
            if (shape.deid) check ??= c;
          }
          rmSync(farOut, { recursive: true, force: true });
          rmSync(join(work, `dg-data-${tag}`), { recursive: true, force: true });
        }
      }
    }
    // The target's rate: deid-route of the last build named (the one under test in an A/B).
    const target = runs.filter((r) => r.variant === 'deid-route' && r.build === builds[builds.length - 1]!.label);
    const pipelineRate = target.length > 0 ? median(target.map((r) => r.instancesPerSec)) : undefined;
    if (rounds > 1 || builds.length > 1 || variants.length > 1) {
      console.log('medians:');
      for (const variant of variants) {
        for (const build of builds) {
          const rs = runs.filter((r) => r.variant === variant && r.build === build.label);
          console.log(
            `  ${`${variant}@${build.label}`.padEnd(24)} ${median(rs.map((r) => r.instancesPerSec)).toFixed(1).padStart(7)} inst/s, dicomgate CPU ${median(rs.map((r) => r.cpuMsPerInstance.user + r.cpuMsPerInstance.sys)).toFixed(2)} ms/inst (${rs.length} runs)`,
          );
        }
      }
    }
    if (pipelineRate !== undefined && directRate !== undefined && check) {
      const ratio = pipelineRate / directRate;
      console.log(`ratio pipeline${builds.length > 1 ? `@${builds[builds.length - 1]!.label}` : ''}/direct ${ratio.toFixed(2)} (target >= 0.5); far end: ${check.arrived}/${files.length} arrived, sample of ${check.sampled}: ${check.deidentified} with PatientIdentityRemoved=YES, planted identifiers found: ${check.leaks.length === 0 ? 'none' : check.leaks.join(', ')}`);
    }
    return {
      slices: files.length,
      bytes,
      ...(directRate !== undefined ? { direct: { seconds: directSeconds, instancesPerSec: directRate } } : {}),
      runs,
      ...(pipelineRate !== undefined ? { pipeline: { instancesPerSec: pipelineRate } } : {}),
      ...(pipelineRate !== undefined && directRate !== undefined ? { ratio: pipelineRate / directRate } : {}),
      ...(check ? { farEnd: check } : {}),
      load: loadavg(),
    };
  } finally {
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** utime and stime of a process (/proc/<pid>/stat fields 14 and 15), in clock ticks of 10 ms. */
function cpuTicks(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]), sys: Number(f[12]) };
}

/**
 * storescu of the folder; resolves once storescu is done and `arrived()` says the far end got them
 * all (without `arrived`, storescu's exit is the end: its last C-STORE was answered).
 */
export async function push(s: { aet: string; port: number }, folder: string, arrived: (() => boolean) | undefined, sample: () => void): Promise<{ seconds: number; pushSeconds: number }> {
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
    if (arrived ? arrived() : pushSeconds > 0) break;
    if (Date.now() > deadline) throw new Error('not everything arrived in 20 minutes');
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

function checkFarEnd(dir: string, expected: number, originalStudyUid: string, deidentifying = true): { arrived: number; sampled: number; deidentified: number; leaks: string[] } {
  const names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  // A pipeline without a deid stage forwards the identified original: only the count is checked.
  if (!deidentifying) return { arrived: names.length, sampled: 0, deidentified: 0, leaks: [] };
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

/** `bin/dicomgate serve --dev --config <cfg>` (this checkout's, or `bin`) on a fresh data folder. */
export async function startGateway(dataDir: string, cfg: string, bin = new URL('../bin/dicomgate', import.meta.url).pathname): Promise<RunningServer> {
  mkdirSync(dataDir, { recursive: true });
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
