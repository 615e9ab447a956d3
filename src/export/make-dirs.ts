// mkdir -p that always ends. Node's `mkdir(path, { recursive: true })` spins forever at 100 % CPU
// when the kernel answers ENOENT for a folder whose parent exists (e.g. under /proc: Node 20 keeps
// creating the parent again); a destination misconfigured that way would hang its route worker.
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';

/** Creates `dir` and its missing parents; an existing folder is fine. */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await fs.stat(dir)).isDirectory()) return;
      throw e;
    }
    if (code !== 'ENOENT') throw e;
  }
  const parent = dirname(dir);
  if (parent === dir) throw Object.assign(new Error(`cannot create ${dir}`), { code: 'ENOENT' });
  await makeDirs(parent);
  // The parent exists now; a second ENOENT means this file system will not hold new folders here.
  try {
    await fs.mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && (await fs.stat(dir)).isDirectory()) return;
    throw e;
  }
}
