// Quarantine: objects a project would not let into the archive (burned-in annotation, ...), kept
// on the identifiable side so an honest broker can inspect and release them. Each item is the
// original file plus a JSON note, written temp-then-rename and fsynced before the sender hears
// "stored". Never served by query/retrieve. Item names are random: never patient data in paths.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import { fsyncDir } from '../storage/fs-blob-store.ts';

export interface QuarantineNote {
  id: string;
  project: string;
  reason: string;
  /** Free of patient data (codes, tags). */
  detail: string;
  receivedAt: string;
  transport: string;
  callingAe?: string;
  calledAe?: string;
}

export class QuarantineStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async put(data: Uint8Array, note: Omit<QuarantineNote, 'id' | 'receivedAt'>): Promise<QuarantineNote> {
    const id = randomUUID();
    const full: QuarantineNote = { id, receivedAt: new Date().toISOString(), ...note };
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeDurably(join(this.#dir, `${id}.dcm`), data);
      // The note is written last: an item without a note is an interrupted write, not an item.
      await writeDurably(join(this.#dir, `${id}.json`), Buffer.from(JSON.stringify(full, null, 2)));
      await fsyncDir(this.#dir);
    } catch (cause) {
      throw new AppError('STORE_UNAVAILABLE', { detail: 'cannot write quarantine item', cause });
    }
    return full;
  }

  async list(): Promise<QuarantineNote[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch {
      return [];
    }
    const notes = await Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(this.#dir, n), 'utf8')) as QuarantineNote));
    return notes.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }

  async read(id: string): Promise<Buffer> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('INDEX_NOT_FOUND', { detail: 'no such quarantine item' });
    try {
      return await readFile(join(this.#dir, `${id}.dcm`));
    } catch (cause) {
      throw new AppError('INDEX_NOT_FOUND', { detail: 'no such quarantine item', cause });
    }
  }

  async remove(id: string): Promise<void> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return;
    await rm(join(this.#dir, `${id}.json`), { force: true });
    await rm(join(this.#dir, `${id}.dcm`), { force: true });
  }
}

async function writeDurably(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
