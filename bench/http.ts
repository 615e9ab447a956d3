// HTTP benchmark (issue 5): in ONE run, the same data into dicomgate (`import`, then `serve --dev`)
// and into Orthanc 1.10 with its DICOMweb plugin (storescu into its DICOM port), then over HTTP:
//   QIDO-RS study search and POST /tools/find: p50/p95 over 200 queries each, 5,000 studies indexed
//     (DG_HTTP_BENCH_INSTANCES=100000 for the 100,000-instance variant: 20 instances per study)
//   WADO-RS of a 1000-instance series (bench/gen-ct.ts): MB/s, server peak RSS
//   STOW-RS of another 1000-instance series in batches of 50 (multipart/related, streamed from disk),
//     and of a third one in ONE ~525 MB request (server RSS must stay flat)
//   ZIP downloads of that study (/archive, and /media with DICOMDIR): MB/s, server peak RSS
// Targets: QIDO p95 < 25 ms; WADO-RS series >= Orthanc; STOW >= 1.5x Orthanc; RSS bounded.
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { generateCt } from './gen-ct.ts';
import { FIRST_YEAR, MODALITIES, YEARS, generateStudies, prng, surnamePrefixes } from './gen-studies.ts';
import { run, totalBytes } from './lib.ts';
import { freePort, sampleChild, spawnLogged, waitFor, type SampledChild } from './servers.ts';

const ORTHANC = '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so', '/usr/lib/orthanc/libOrthancDicomWeb.so.1.7'];
const QUERIES = 200;
const STUDIES = 5000;

interface Server extends SampledChild {
  name: string;
  base: string;
  dicomPort: number;
  child: ChildProcess;
}

function watch(name: string, base: string, dicomPort: number, child: ChildProcess): Server {
  return { name, base, dicomPort, child, ...sampleChild(child) };
}

async function startDicomgate(dataDir: string): Promise<Server> {
  const bin = new URL('../bin/dicomgate', import.meta.url).pathname;
  const { child, stderr: log } = spawnLogged(bin, ['serve', '--dev', '--data', dataDir, '--http-port', '0', '--dicom-port', '0', '--host', '127.0.0.1']);
  let m: RegExpExecArray | null = null;
  await waitFor('dicomgate serve', () => (m = /listening dicom=(\d+) http=(\d+)/.exec(log())) !== null, child, log, 120_000);
  const [, dicom, http] = m!;
  return watch('dicomgate', `http://127.0.0.1:${http}`, Number(dicom), child);
}

async function startOrthanc(dir: string, plugin: string): Promise<Server> {
  mkdirSync(dir, { recursive: true });
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const cfg = join(dir, 'orthanc.json');
  writeFileSync(cfg, JSON.stringify({
    Name: 'bench', StorageDirectory: join(dir, 'storage'), IndexDirectory: join(dir, 'index'),
    HttpPort: httpPort, DicomPort: dicomPort, DicomAet: 'ORTHANC', DicomCheckCalledAet: false,
    RemoteAccessAllowed: false, AuthenticationEnabled: false, Plugins: [plugin],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  }));
  const { child, stderr: log } = spawnLogged(ORTHANC, [cfg]);
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor('Orthanc', async () => (await fetch(`${base}/system`).catch(() => undefined))?.ok ?? false, child, log, 120_000);
  return watch('Orthanc', base, dicomPort, child);
}

/** CPU ticks (user + system) the process has used, from /proc/<pid>/stat. */
function cpuTicks(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/**
 * Waits until the server has been nearly idle (< 10 % of a core) for a second: work a fresh
 * start does in the background (e.g. the pipeline catching up with the change log of a large
 * import) must not be measured as query latency. Returns the seconds it took.
 */
async function waitIdle(s: Server, timeoutMs = 300_000): Promise<number> {
  const t0 = Date.now();
  let quiet = 0;
  let last = cpuTicks(s.child.pid);
  while (quiet < 2 && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 500));
    const now = cpuTicks(s.child.pid);
    quiet = now - last <= 5 ? quiet + 1 : 0; // USER_HZ is 100: 5 ticks per 500 ms = 10 %
    last = now;
  }
  return (Date.now() - t0) / 1000;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

interface QueryKind {
  name: string;
  /** The i-th request: [method, path, body]. */
  make(i: number): [string, string, string | undefined];
}

function queryKinds(patientIds: string[]): QueryKind[] {
  const rnd = prng(7);
  const prefixes = surnamePrefixes();
  const plan = Array.from({ length: QUERIES }, () => ({
    prefix: prefixes[Math.floor(rnd() * prefixes.length)],
    year: FIRST_YEAR + Math.floor(rnd() * YEARS),
    month: 1 + Math.floor(rnd() * 12),
    modality: MODALITIES[Math.floor(rnd() * MODALITIES.length)],
    pid: patientIds[Math.floor(rnd() * patientIds.length)],
  }));
  const mm = (m: number) => String(m).padStart(2, '0');
  return [
    { name: 'QIDO PatientName=XY*&StudyDate=<year>', make: (i) => ['GET', `/dicom-web/studies?PatientName=${plan[i].prefix}*&StudyDate=${plan[i].year}0101-${plan[i].year}1231`, undefined] },
    { name: 'QIDO PatientID=<exact>', make: (i) => ['GET', `/dicom-web/studies?PatientID=${plan[i].pid}`, undefined] },
    { name: 'QIDO ModalitiesInStudy&StudyDate=<month>', make: (i) => ['GET', `/dicom-web/studies?ModalitiesInStudy=${plan[i].modality}&StudyDate=${plan[i].year}${mm(plan[i].month)}01-${plan[i].year}${mm(plan[i].month)}31`, undefined] },
    { name: 'QIDO StudyDate=<year> (~500 studies)', make: (i) => ['GET', `/dicom-web/studies?StudyDate=${plan[i].year}0101-${plan[i].year}1231`, undefined] },
    {
      name: 'POST /tools/find name+date (ids)',
      make: (i) => ['POST', '/tools/find', JSON.stringify({ Level: 'Study', Query: { PatientName: `${plan[i].prefix}*`, StudyDate: `${plan[i].year}0101-${plan[i].year}1231` } })],
    },
    {
      name: 'POST /tools/find name+date (Expand)',
      make: (i) => ['POST', '/tools/find', JSON.stringify({ Level: 'Study', Expand: true, Query: { PatientName: `${plan[i].prefix}*`, StudyDate: `${plan[i].year}0101-${plan[i].year}1231` } })],
    },
  ];
}

async function timeQueries(s: Server, kind: QueryKind): Promise<{ p50: number; p95: number; max: number; rows: number }> {
  const ms: number[] = [];
  let rows = 0;
  for (let i = -10; i < QUERIES; i++) {
    const [method, path, body] = kind.make(Math.max(0, i));
    const t0 = performance.now();
    const res = await fetch(s.base + path, { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
    const bytes = await res.arrayBuffer();
    // Timed to the last byte of the answer: parsing it is the client's work (for a ~500-study answer,
    // ~350 KB of JSON, that was 5-10 ms of this process's time inside the measurement until session 3).
    const t = performance.now() - t0;
    const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown[];
    if (!res.ok) throw new Error(`${s.name} ${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    if (i >= 0) {
      ms.push(t);
      rows += json.length;
    }
  }
  return { p50: pct(ms, 50), p95: pct(ms, 95), max: Math.max(...ms), rows };
}

/** GET, counting body bytes; seconds, bytes and the server's peak RSS meanwhile. */
async function download(s: Server, path: string, accept?: string): Promise<{ seconds: number; bytes: number; peakRssMb: number }> {
  s.resetPeak();
  const t0 = performance.now();
  const res = await fetch(s.base + path, accept ? { headers: { accept } } : {});
  if (!res.ok) throw new Error(`${s.name} GET ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
  return { seconds: (performance.now() - t0) / 1000, bytes, peakRssMb: s.peakRssMb() };
}

/** One STOW-RS request of `files`, streamed from disk as multipart/related. */
function stowBatch(s: Server, files: string[]): Promise<number> {
  const boundary = `dg${randomBytes(12).toString('hex')}`;
  const url = new URL(s.base + '/dicom-web/studies');
  const head = (i: number) => Buffer.from(`${i ? '\r\n' : ''}--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = files.reduce((n, f, i) => n + head(i).length + statSync(f).size, tail.length);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, 'content-length': length, accept: 'application/dicom+json' },
    }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`${s.name} STOW ${res.statusCode}: ${body.slice(0, 500)}`))));
    });
    req.on('error', reject);
    (async () => {
      for (let i = 0; i < files.length; i++) {
        if (!req.write(head(i))) await new Promise((r) => req.once('drain', r));
        for await (const chunk of createReadStream(files[i])) {
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
      }
      req.end(tail);
    })().catch(reject);
  });
}

async function stow(s: Server, files: string[], batch: number): Promise<{ seconds: number; peakRssMb: number }> {
  s.resetPeak();
  const t0 = performance.now();
  for (let i = 0; i < files.length; i += batch) await stowBatch(s, files.slice(i, i + batch));
  return { seconds: (performance.now() - t0) / 1000, peakRssMb: s.peakRssMb() };
}

async function orthancCount(s: Server): Promise<number> {
  return ((await (await fetch(`${s.base}/statistics`)).json()) as { CountInstances: number }).CountInstances;
}

export async function httpBench(opts: { keep?: boolean; slices?: number; servers?: string[] }): Promise<Record<string, unknown>> {
  const queriesOnly = process.env.DG_HTTP_BENCH_QUERIES_ONLY === '1';
  const instances = Number(process.env.DG_HTTP_BENCH_INSTANCES ?? 10_000);
  const perStudy = Math.max(1, Math.round(instances / STUDIES));
  // Queries only (the 100,000-instance variant): no CT series, no WADO/STOW/ZIP.
  const slices = queriesOnly ? 0 : (opts.slices ?? 1000);
  const plugin = DICOMWEB_PLUGIN.find((p) => existsSync(p));
  const withOrthanc = existsSync(ORTHANC) && plugin !== undefined && (opts.servers?.map((x) => x.toLowerCase()).includes('orthanc') ?? true);
  const root = mkdtempSync(join(tmpdir(), 'dg-bench-http-'));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`generating ${STUDIES} studies x ${perStudy} instances, and three ${slices}-slice CTs, in ${root}`);
  const studies = generateStudies(join(root, 'studies'), STUDIES, perStudy);
  const ctFiles = generateCt(join(root, 'ct'), slices);
  const stowFiles = generateCt(join(root, 'stow'), slices);
  const stowBytes = totalBytes(stowFiles);
  // The same again as ONE request (~525 MB): the server's RSS must not grow with the body.
  const stowOneFiles = generateCt(join(root, 'stow-one'), slices);
  const kinds = queryKinds(studies.patientIds);
  const out: Record<string, unknown> = {
    machine: `${cpus().length} x ${cpus()[0]?.model}`, date: new Date().toISOString(), studies: STUDIES,
    instancesIndexed: STUDIES * perStudy + slices, slices,
  };
  const servers: { name: string; start: () => Promise<Server>; load: (s: Server) => Promise<void> }[] = [
    {
      name: 'dicomgate',
      start: () => startDicomgate(join(root, 'dg')),
      load: async () => undefined,
    },
  ];
  // dicomgate's data is imported before it serves (the import command, as an operator would).
  log('dicomgate import');
  for (const dir of [join(root, 'studies'), ...(slices > 0 ? [join(root, 'ct')] : [])]) {
    const imp = await run(new URL('../bin/dicomgate', import.meta.url).pathname, ['import', dir, '--data', join(root, 'dg')]);
    if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr.slice(-2000)}`);
    log(`  ${dir}: ${imp.seconds.toFixed(1)} s`);
  }
  if (withOrthanc) {
    servers.push({
      name: 'Orthanc',
      start: () => startOrthanc(join(root, 'orthanc'), plugin),
      load: async (s) => {
        for (const dir of [join(root, 'studies'), ...(slices > 0 ? [join(root, 'ct')] : [])]) {
          const r = await run('storescu', ['-aec', 'ORTHANC', '+sd', '+r', '127.0.0.1', String(s.dicomPort), dir]);
          if (r.code !== 0) throw new Error(`storescu into Orthanc failed: ${r.stderr.slice(-2000)}`);
          log(`  storescu ${dir} into Orthanc: ${r.seconds.toFixed(1)} s`);
        }
        const n = await orthancCount(s);
        if (n !== STUDIES * perStudy + slices) throw new Error(`Orthanc holds ${n} instances, expected ${STUDIES * perStudy + slices}`);
      },
    });
  } else log('Orthanc (or its DICOMweb plugin) not installed or not selected: no reference');

  const ctStudy = slices > 0 ? await studyOf(ctFiles[0]) : undefined;
  const stowStudy = slices > 0 ? await studyOf(stowFiles[0]) : undefined;
  const results: Record<string, Record<string, unknown>> = {};
  for (const def of servers) {
    log(`== ${def.name}`);
    const s = await def.start();
    const r: Record<string, unknown> = {};
    results[def.name] = r;
    try {
      await def.load(s);
      const settle = await waitIdle(s);
      r.settleSeconds = settle;
      if (settle > 2) log(`  ${def.name} busy for ${settle.toFixed(0)} s after start before queries`);
      const idle = s.peakRssMb();
      r.idleRssMb = idle;
      for (const k of kinds) {
        const q = await timeQueries(s, k);
        r[k.name] = q;
        console.log(`${def.name.padEnd(10)} ${k.name.padEnd(44)} p50 ${q.p50.toFixed(1).padStart(6)} ms  p95 ${q.p95.toFixed(1).padStart(6)} ms  max ${q.max.toFixed(0).padStart(4)} ms  (${q.rows} rows in ${QUERIES} queries)`);
      }
      if (!ctStudy || !stowStudy) continue;
      const wadoRuns = [];
      // Five runs, the median: single runs moved between 170 and 600 MB/s on the shared machine.
      for (let i = 0; i < 5; i++) {
        wadoRuns.push(await download(s, `/dicom-web/studies/${ctStudy.study}/series/${ctStudy.series}`, 'multipart/related; type="application/dicom"; transfer-syntax=*'));
      }
      wadoRuns.sort((a, b) => a.seconds - b.seconds);
      const wado = wadoRuns[2];
      r.wado = { ...wado, mbPerSec: wado.bytes / 1e6 / wado.seconds };
      console.log(`${def.name.padEnd(10)} WADO-RS series (${slices} instances)                 ${(wado.bytes / 1e6 / wado.seconds).toFixed(0).padStart(6)} MB/s (median of 5, ${wado.seconds.toFixed(2)} s)  peak RSS ${wado.peakRssMb.toFixed(0)} MB`);
      const st = await stow(s, stowFiles, 50);
      r.stow = { ...st, instancesPerSec: stowFiles.length / st.seconds, mbPerSec: stowBytes / 1e6 / st.seconds };
      console.log(`${def.name.padEnd(10)} STOW-RS ${stowFiles.length} instances, batches of 50             ${(stowFiles.length / st.seconds).toFixed(0).padStart(6)} inst/s ${(stowBytes / 1e6 / st.seconds).toFixed(0).padStart(5)} MB/s  peak RSS ${st.peakRssMb.toFixed(0)} MB`);
      const one = await stow(s, stowOneFiles, stowOneFiles.length);
      r.stowOneRequest = { ...one, bytes: stowBytes, mbPerSec: stowBytes / 1e6 / one.seconds };
      console.log(`${def.name.padEnd(10)} STOW-RS ${stowOneFiles.length} instances in ONE request (${(stowBytes / 1e6).toFixed(0)} MB)   ${(stowOneFiles.length / one.seconds).toFixed(0).padStart(6)} inst/s ${(stowBytes / 1e6 / one.seconds).toFixed(0).padStart(5)} MB/s  peak RSS ${one.peakRssMb.toFixed(0)} MB`);
      for (const kind of ['archive', 'media'] as const) {
        try {
          const z = await download(s, `/studies/${stowStudy.orthancId}/${kind}`);
          // MB/s of DICOM content: Orthanc deflates entries (this synthetic CT shrinks 60x), we store them.
          r[kind] = { ...z, zipBytes: z.bytes, mbPerSec: stowBytes / 1e6 / z.seconds };
          console.log(`${def.name.padEnd(10)} GET /studies/{id}/${kind.padEnd(8)} (${(z.bytes / 1e6).toFixed(0)} MB ZIP)           ${(stowBytes / 1e6 / z.seconds).toFixed(0).padStart(6)} MB/s of DICOM  peak RSS ${z.peakRssMb.toFixed(0)} MB`);
        } catch (e) {
          console.log(`${def.name.padEnd(10)} GET /studies/{id}/${kind}: ${(e as Error).message.slice(0, 120)}`);
        }
      }
    } finally {
      await s.stop();
    }
  }
  const dg = results.dicomgate;
  const or = results.Orthanc;
  if (or) {
    const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
    const ratios: Record<string, number> = {};
    for (const k of kinds) ratios[`${k.name} p95 Orthanc/dicomgate`] = ratio((or[k.name] as { p95: number }).p95, (dg[k.name] as { p95: number }).p95);
    if (!queriesOnly) {
      ratios['WADO-RS MB/s dicomgate/Orthanc'] = ratio((dg.wado as { mbPerSec: number }).mbPerSec, (or.wado as { mbPerSec: number }).mbPerSec);
      ratios['STOW-RS inst/s dicomgate/Orthanc'] = ratio((dg.stow as { instancesPerSec: number }).instancesPerSec, (or.stow as { instancesPerSec: number }).instancesPerSec);
      for (const kind of ['archive', 'media'] as const) {
        const a = dg[kind] as { mbPerSec: number } | undefined;
        const b = or[kind] as { mbPerSec: number } | undefined;
        if (a && b) ratios[`ZIP /${kind} MB/s dicomgate/Orthanc`] = ratio(a.mbPerSec, b.mbPerSec);
      }
    }
    for (const [k, v] of Object.entries(ratios)) console.log(`ratio ${k.padEnd(56)} ${v.toFixed(2)}x`);
    out.ratios = ratios;
  }
  const qidoP95 = Math.max(...kinds.filter((k) => k.name.startsWith('QIDO')).map((k) => (dg[k.name] as { p95: number }).p95));
  console.log(`dicomgate QIDO worst p95 ${qidoP95.toFixed(1)} ms (target < 25 ms); load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  out.results = results;
  if (!opts.keep) rmSync(root, { recursive: true, force: true });
  return out;
}

/** Study/series UIDs and the Orthanc study id of a generated file (read with dcmdump, not our parser). */
async function studyOf(file: string): Promise<{ study: string; series: string; orthancId: string }> {
  const r = await run('dcmdump', ['+P', 'PatientID', '+P', 'StudyInstanceUID', '+P', 'SeriesInstanceUID', file]);
  const v = [...r.stdout.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]);
  const [pid, study, series] = v;
  const { createHash } = await import('node:crypto');
  const h = createHash('sha1').update(`${pid}|${study}`).digest('hex');
  const orthancId = h.match(/.{8}/g)!.join('-');
  return { study, series, orthancId };
}

// Direct run, for variants: DG_HTTP_BENCH_INSTANCES=100000 DG_HTTP_BENCH_QUERIES_ONLY=1
// [DG_HTTP_BENCH_SERVERS=dicomgate] node --import tsx bench/http.ts  → bench/out/http-<instances>.json
if (import.meta.url === `file://${process.argv[1]}`) {
  const servers = process.env.DG_HTTP_BENCH_SERVERS?.split(',');
  const result = await httpBench({ keep: process.env.KEEP === '1', ...(servers ? { servers } : {}) });
  const n = process.env.DG_HTTP_BENCH_INSTANCES ?? '10000';
  writeFileSync(new URL(`./out/http-${n}.json`, import.meta.url), JSON.stringify({ ...result, loadAfter: loadavg().join(' ') }, null, 2));
}
