// Long-running servers for benchmarks (dicomgate serve, DCMTK storescp, Orthanc): start on loopback
// with a fresh data folder, sample their RSS while they run, stop them. Each start picks free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { rssOf } from './lib.ts';

export const ORTHANC = '/usr/sbin/Orthanc';

export interface RunningServer extends SampledChild {
  readonly name: string;
  readonly aet: string;
  readonly port: number;
  readonly pid: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Peak-RSS sampling (every 20 ms) and a stop (SIGTERM, SIGKILL after 10 s) for a server child. */
export interface SampledChild {
  /** Peak RSS (MB) since the last reset. */
  peakRssMb(): number;
  /** Starts a new peak from the RSS the child has now. */
  resetPeak(): void;
  stop(): Promise<void>;
}

export function sampleChild(child: ChildProcess): SampledChild {
  let peak = 0;
  const sample = () => (peak = Math.max(peak, rssOf(child.pid)));
  const timer = setInterval(sample, 20);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    peakRssMb: () => (sample(), peak / 1024),
    resetPeak: () => (peak = rssOf(child.pid)),
    async stop() {
      clearInterval(timer);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

function sampled(name: string, aet: string, port: number, child: ChildProcess): RunningServer {
  return { name, aet, port, pid: child.pid!, ...sampleChild(child) };
}

/** A child with TCP_NODELAY=1 whose last 20 kB of output (stdout and stderr) are kept for error messages. */
export function spawnLogged(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; stderr: () => string } {
  const child = spawn(cmd, args, { env: { ...process.env, TCP_NODELAY: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  return { child, stderr: () => err };
}

/** Polls `check` until it holds; fails with the child's output if it exits or `timeoutMs` passes. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, child: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return;
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}): ${log().slice(-2000)}`);
    if (Date.now() - t0 > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not start in ${timeoutMs} ms: ${log().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `bin/dicomgate serve --dev` on a fresh data folder; the DICOM port is read from its log line.
 * `gateway`: with a config binding the called AE title GATEWAY to the project `basic` (every
 * instance de-identified before it reaches the archive), and pushed to that AE title.
 */
export async function startDicomgate(dataDir: string, opts: { gateway?: boolean } = {}): Promise<RunningServer> {
  const bin = new URL('../bin/dicomgate', import.meta.url).pathname;
  const config: string[] = [];
  if (opts.gateway) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'gateway.yaml'), 'intakes:\n  - { aet: GATEWAY, project: basic }\n');
    config.push('--config', join(dataDir, 'gateway.yaml'));
  }
  const { child, stderr } = spawnLogged(bin, ['serve', '--dev', '--data', dataDir, '--dicom-port', '0', '--http-port', '0', '--host', '127.0.0.1', ...config]);
  let port = 0;
  await waitFor('dicomgate serve', () => {
    const m = /listening dicom=(\d+)/.exec(stderr());
    if (m) port = Number(m[1]);
    return port > 0;
  }, child, stderr);
  return opts.gateway ? sampled('dicomgate gateway', 'GATEWAY', port, child) : sampled('dicomgate', 'DICOMGATE', port, child);
}

/** DCMTK storescp writing every instance into `outDir` (no fsync: the caller runs `sync` after the push). */
export async function startStorescp(outDir: string): Promise<RunningServer> {
  mkdirSync(outDir, { recursive: true });
  const port = await freePort();
  const { child, stderr } = spawnLogged('storescp', ['-od', outDir, '-aet', 'STORESCP', port.toString()]);
  await waitFor('storescp', () => canConnect(port), child, stderr);
  return sampled('storescp', 'STORESCP', port, child);
}

/** Orthanc with its own config: storage and index in `dir`, loopback only, no plugins. */
export async function startOrthanc(dir: string): Promise<RunningServer> {
  mkdirSync(dir, { recursive: true });
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const config = {
    Name: 'bench',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    Plugins: [],
    DicomAet: 'ORTHANC',
    DicomPort: dicomPort,
    HttpPort: httpPort,
    DicomCheckCalledAet: false,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpServerEnabled: true,
    DicomServerEnabled: true,
  };
  const cfg = join(dir, 'orthanc.json');
  writeFileSync(cfg, JSON.stringify(config, null, 2));
  const { child, stderr } = spawnLogged(ORTHANC, [cfg]);
  await waitFor('Orthanc', async () => {
    try {
      return (await fetch(`http://127.0.0.1:${httpPort}/system`)).ok;
    } catch {
      return false;
    }
  }, child, stderr);
  await waitFor('Orthanc DICOM port', () => canConnect(dicomPort), child, stderr);
  const s = sampled('Orthanc', 'ORTHANC', dicomPort, child);
  return Object.assign(s, { httpPort });
}

export async function orthancInstanceCount(server: RunningServer): Promise<number> {
  const httpPort = (server as RunningServer & { httpPort: number }).httpPort;
  const stats = (await (await fetch(`http://127.0.0.1:${httpPort}/statistics`)).json()) as { CountInstances: number };
  return stats.CountInstances;
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
