// Spawning DCMTK tools in tests. TCP_NODELAY=1 always: DCMTK leaves Nagle on by default, which
// stalls every DIMSE exchange for the peer's 40 ms delayed ACK.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ENV = { ...process.env, TCP_NODELAY: '1' };

/** Runs a DCMTK tool to completion (killed after `timeoutMs`). */
export function runDcmtk(tool: string, args: readonly string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: ENV, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A free TCP port on loopback (DCMTK servers need one on the command line). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningTool {
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts DCMTK storescp writing received files into `dir` (-od), accepting every SOP class and
 * transfer syntax it knows (+xa). Files are named by SOP instance UID (+B bit-preserving mode writes
 * the received dataset as is).
 */
export async function startStorescp(dir: string, opts: { aeTitle?: string; extraArgs?: readonly string[] } = {}): Promise<RunningTool> {
  const port = await freePort();
  const args = ['-aet', opts.aeTitle ?? 'STORESCP', '-od', dir, '+xa', '-uf', ...(opts.extraArgs ?? []), String(port)];
  const child = spawn('storescp', args, { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitForPort(port);
  return {
    port,
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('close', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
