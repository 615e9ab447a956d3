// The two steps every export write is made durable with: a new file written and fsynced, and its
// folder fsynced after the rename/link that names it (POSIX: only then is the entry on disk).
import { promises as fs } from 'node:fs';

/** Creates `path` (it must not exist), writes `bytes` and fsyncs the file. */
export async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await fs.open(path, 'wx');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Flushes a folder's entries; best effort where folders cannot be opened (Windows). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort where directories cannot be fsynced */
  }
}
