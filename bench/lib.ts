// Shared helpers for benchmarks: timing, RSS sampling, a process runner, and result printing.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Measure {
  name: string;
  seconds: number;
  files: number;
  bytes: number;
  peakRssMb?: number;
}

export function rate(m: Measure): { filesPerSec: number; mbPerSec: number } {
  return { filesPerSec: m.files / m.seconds, mbPerSec: m.bytes / 1e6 / m.seconds };
}

export function fmt(m: Measure): string {
  const r = rate(m);
  const rss = m.peakRssMb !== undefined ? `  peak RSS ${m.peakRssMb.toFixed(0)} MB` : '';
  return `${m.name.padEnd(44)} ${r.filesPerSec.toFixed(0).padStart(7)} files/s ${r.mbPerSec.toFixed(1).padStart(8)} MB/s  (${m.seconds.toFixed(2)} s)${rss}`;
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

export function totalBytes(files: string[]): number {
  return files.reduce((s, f) => s + statSync(f).size, 0);
}

/** Runs a command; resolves with wall seconds and the peak RSS of the process tree's leader (MB), sampled from /proc. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ seconds: number; peakRssMb: number; stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, TCP_NODELAY: '1', ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(child.pid));
    }, 50);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(sampler);
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakRssMb: peak / 1024, stdout, stderr, code: code ?? -1 });
    });
  });
}

/** CPU seconds (user, system) a pid has used so far, all threads (/proc/<pid>/stat), zeros if gone. */
export function cpuOf(pid: number | undefined): { user: number; sys: number } {
  if (pid === undefined) return { user: 0, sys: 0 };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ') '; utime and stime are 14th and 15th.
    const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const tick = 100;
    return { user: Number(f[11]) / tick, sys: Number(f[12]) / tick };
  } catch {
    return { user: 0, sys: 0 };
  }
}

/** Resident set size in kB of a pid, 0 if gone. */
export function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)/.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export async function time<T>(fn: () => Promise<T> | T): Promise<{ seconds: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}
