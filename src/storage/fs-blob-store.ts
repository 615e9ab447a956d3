// Filesystem BlobStore. Layout: <root>/ab/cd/<key>, where abcd are the key's first four hex digits,
// so 65,536 leaf folders share the load evenly and none grows without bound (10 M objects ≈ 150 per folder).
//
// Keys are random (128 bits), not content hashes:
// - the temp file must sit in the final folder (so rename() is atomic), and a streamed C-STORE's
//   content hash is only known after its last fragment, while a random key is known at open;
// - hashing costs CPU on the import hot path (about 1 s per 500 MB per core);
// - duplicates are decided by SOP Instance UID in the index, so content de-duplication buys nothing
//   and would make two index rows share one blob, which complicates deletes.
// A random key carries no patient data, so paths are safe to log.
import { constants, createReadStream as fsCreateReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import { isBlobKey, type BlobSource, type BlobStore, type BlobWriter } from './blob-store.ts';

/** Prefix and suffix of staged files; never a valid key, so a crash leaves nothing that looks like a blob. */
const TEMP_PREFIX = '.';
const TEMP_SUFFIX = '.tmp';

export class FsBlobStore implements BlobStore {
  readonly root: string;
  /** Leaf folders known to exist (and to be durable), to skip mkdir and its directory fsync. */
  private readonly knownDirs = new Set<string>();

  constructor(root: string) {
    this.root = root;
  }

  /** Creates the root folder if needed. */
  static async create(root: string): Promise<FsBlobStore> {
    // A freshly created root must itself survive a power loss, like the folders below it.
    if ((await mkdir(root, { recursive: true })) !== undefined) await fsyncDir(dirname(root));
    return new FsBlobStore(root);
  }

  pathFor(key: string): string {
    if (!isBlobKey(key)) throw new AppError('STORE_NOT_FOUND', { detail: `malformed blob key "${key.slice(0, 40)}"` });
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  async open(): Promise<BlobWriter> {
    const key = randomBytes(16).toString('hex');
    const finalPath = this.pathFor(key);
    const dir = dirname(finalPath);
    try {
      await this.ensureDir(dir);
      const tempPath = join(dir, TEMP_PREFIX + key + TEMP_SUFFIX);
      // 'wx+' (read back by readStaged): a 128-bit random name never collides; if it ever did, failing beats overwriting.
      const fh = await open(tempPath, 'wx+');
      return new FsBlobWriter(key, fh, tempPath, finalPath, dir);
    } catch (e) {
      throw storeError(e, key);
    }
  }

  async put(data: Uint8Array | readonly Uint8Array[]): Promise<string> {
    const w = await this.open();
    try {
      if (data instanceof Uint8Array) await w.write(data);
      else for (const chunk of data) await w.write(chunk);
      return await w.commit();
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  /**
   * Group commit. All objects of a group get keys sharing their first four hex digits, so they land
   * in one leaf folder: each file is written and fsync'd, renamed, and the folder is fsync'd ONCE
   * for the group (instead of once per file). Groups pick their folder at random, so folders still
   * fill evenly over time (a folder holds a few groups rather than a few files).
   */
  async putBatch(items: readonly BlobSource[]): Promise<(string | AppError)[]> {
    if (items.length === 0) return [];
    const prefix = randomBytes(2).toString('hex');
    const dir = join(this.root, prefix.slice(0, 2), prefix.slice(2, 4));
    try {
      await this.ensureDir(dir);
    } catch (e) {
      const err = storeError(e, `${prefix}…`);
      return items.map(() => err);
    }
    const staged = await Promise.all(items.map((data) => this.writeDurable(dir, prefix + randomBytes(14).toString('hex'), data)));
    try {
      await fsyncDir(dir);
    } catch (e) {
      // The renames are not durable, so none of the group is stored: remove them all.
      await Promise.all(staged.map((k) => (typeof k === 'string' ? rm(join(dir, k), { force: true }).catch(() => undefined) : undefined)));
      const err = storeError(e, `${prefix}…`);
      return items.map(() => err);
    }
    return staged;
  }

  /** Temp file, write (or kernel-side copy), fsync, close, rename; the caller syncs the folder. */
  private async writeDurable(dir: string, key: string, item: BlobSource): Promise<string | AppError> {
    const temp = join(dir, TEMP_PREFIX + key + TEMP_SUFFIX);
    try {
      if (!(item instanceof Uint8Array)) {
        // copy_file_range/sendfile (or a reflink where the filesystem has them): the bytes never
        // pass through JS, which halves the CPU an import spends per file.
        try {
          await copyFile(item.path, temp, constants.COPYFILE_EXCL);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw sourceError(e);
          throw e;
        }
      }
      const fh = await open(temp, item instanceof Uint8Array ? 'wx' : 'r+');
      try {
        if (item instanceof Uint8Array) {
          let off = 0;
          while (off < item.byteLength) off += (await fh.write(item, off, item.byteLength - off)).bytesWritten;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, join(dir, key));
      return key;
    } catch (e) {
      await rm(temp, { force: true }).catch(() => undefined);
      return storeError(e, key);
    }
  }

  async get(key: string): Promise<Buffer> {
    const p = this.pathFor(key);
    try {
      return await readFile(p);
    } catch (e) {
      throw storeError(e, key);
    }
  }

  createReadStream(key: string): Readable {
    const out = new PassThrough();
    let src: Readable;
    try {
      src = fsCreateReadStream(this.pathFor(key));
    } catch (e) {
      process.nextTick(() => out.destroy(storeError(e, key)));
      return out;
    }
    src.on('error', (e) => out.destroy(storeError(e, key)));
    return src.pipe(out);
  }

  async exists(key: string): Promise<boolean> {
    if (!isBlobKey(key)) return false;
    try {
      return (await stat(this.pathFor(key))).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storeError(e, key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathFor(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw storeError(e, key);
    }
  }

  /**
   * Removes staged files left by a crash (a process killed between open and commit), older than
   * `olderThanMs` so writes in flight in another process are spared. Walks every folder: an
   * offline maintenance step, not something to run per request. Returns how many were removed.
   */
  async sweepTemporaryFiles(olderThanMs = 3_600_000): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const temp of await this.listTemporaryFiles()) {
      const st = await stat(temp).catch(() => undefined);
      if (st && st.mtimeMs <= cutoff) {
        await rm(temp, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Staged (uncommitted) files currently present, as absolute paths. */
  async listTemporaryFiles(): Promise<string[]> {
    const out: string[] = [];
    for (const a of await readdirOrEmpty(this.root)) {
      for (const b of await readdirOrEmpty(join(this.root, a))) {
        const leaf = join(this.root, a, b);
        for (const name of await readdirOrEmpty(leaf)) {
          if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) out.push(join(leaf, name));
        }
      }
    }
    return out;
  }

  /** Every committed key (walks the whole tree; for checks and tests). */
  async listKeys(): Promise<string[]> {
    const out: string[] = [];
    for (const a of await readdirOrEmpty(this.root)) {
      for (const b of await readdirOrEmpty(join(this.root, a))) {
        for (const name of await readdirOrEmpty(join(this.root, a, b))) if (isBlobKey(name)) out.push(name);
      }
    }
    return out;
  }

  async close(): Promise<void> {}

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const firstCreated = await mkdir(dir, { recursive: true });
    if (firstCreated !== undefined) {
      // New folders are themselves directory entries: fsync each parent of a created folder so the
      // path survives a power loss (the blob's own rename is synced in commit()).
      const parents = [dirname(dir)];
      if (firstCreated !== dir) parents.push(dirname(dirname(dir)));
      for (const p of parents) await fsyncDir(p);
    }
    this.knownDirs.add(dir);
  }
}

class FsBlobWriter implements BlobWriter {
  size = 0;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    readonly key: string,
    private readonly fh: FileHandle,
    private readonly tempPath: string,
    private readonly finalPath: string,
    private readonly dir: string,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.assertOpen();
    try {
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await this.fh.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
      this.size += chunk.byteLength;
    } catch (e) {
      throw storeError(e, this.key);
    }
  }

  async readStaged(): Promise<Buffer> {
    this.assertOpen();
    const buf = Buffer.allocUnsafe(this.size);
    let off = 0;
    while (off < this.size) {
      const { bytesRead } = await this.fh.read(buf, off, this.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return buf.subarray(0, off);
  }

  async commit(): Promise<string> {
    this.assertOpen();
    let renamed = false;
    try {
      // Data first, then the name: after a crash the final name either is absent or holds every byte.
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tempPath, this.finalPath);
      renamed = true;
      // rename() is durable only once its directory is synced; on ext4 concurrent directory fsyncs
      // share one journal commit, so a batch of commits pays for about one.
      await fsyncDir(this.dir);
      this.state = 'committed';
      return this.key;
    } catch (e) {
      await this.abort();
      // Not durable, so not committed: the caller will not index it, and the file must not linger.
      if (renamed) await rm(this.finalPath, { force: true }).catch(() => undefined);
      throw storeError(e, this.key);
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.fh.close().catch(() => undefined);
    await rm(this.tempPath, { force: true }).catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new AppError('STORE_UNAVAILABLE', { detail: `blob ${this.key} is already ${this.state}` });
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
}

/** The file to copy is missing or unreadable: the input's fault, not the store's. */
export function sourceError(e: unknown): AppError {
  return new AppError('IMPORT_UNREADABLE', { detail: `source file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, cause: e });
}

function storeError(e: unknown, key: string): AppError {
  if (e instanceof AppError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new AppError('STORE_NOT_FOUND', { detail: `blob ${key}`, cause: e });
  return new AppError('STORE_UNAVAILABLE', { detail: `blob ${key}: ${code ?? 'error'}`, cause: e });
}
