// In-memory BlobStore for tests (Orthanc's MemoryStorageArea): same contract, no disk.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import { isBlobKey, type BlobSource, type BlobStore, type BlobWriter } from './blob-store.ts';

export class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<string, Buffer>();

  async open(): Promise<BlobWriter> {
    const key = randomBytes(16).toString('hex');
    const chunks: Buffer[] = [];
    let state: 'open' | 'committed' | 'aborted' = 'open';
    const assertOpen = () => {
      if (state !== 'open') throw new AppError('STORE_UNAVAILABLE', { detail: `blob ${key} is already ${state}` });
    };
    const writer: BlobWriter = {
      key,
      size: 0,
      write: async (chunk) => {
        assertOpen();
        chunks.push(Buffer.from(chunk));
        (writer as { size: number }).size += chunk.byteLength;
      },
      readStaged: async () => {
        assertOpen();
        return Buffer.concat(chunks);
      },
      stagedHead: () => Buffer.concat(chunks),
      commit: async () => {
        assertOpen();
        state = 'committed';
        this.blobs.set(key, Buffer.concat(chunks));
        return key;
      },
      abort: async () => {
        if (state === 'open') state = 'aborted';
      },
    };
    return writer;
  }

  async put(data: Uint8Array | readonly Uint8Array[]): Promise<string> {
    const w = await this.open();
    for (const chunk of data instanceof Uint8Array ? [data] : data) await w.write(chunk);
    return w.commit();
  }

  async putBatch(items: readonly BlobSource[]): Promise<(string | AppError)[]> {
    return Promise.all(
      items.map(async (item) => {
        if (item instanceof Uint8Array) return this.put(item);
        let data: Buffer;
        try {
          data = await readFile(item.path);
        } catch (e) {
          return new AppError('IMPORT_UNREADABLE', { detail: `source file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, cause: e });
        }
        return this.put(data);
      }),
    );
  }

  async get(key: string, _expectedSize?: number): Promise<Buffer> {
    const b = isBlobKey(key) ? this.blobs.get(key) : undefined;
    if (!b) throw new AppError('STORE_NOT_FOUND', { detail: `blob ${key.slice(0, 40)}` });
    return b;
  }

  createReadStream(key: string): Readable {
    const b = isBlobKey(key) ? this.blobs.get(key) : undefined;
    if (!b) {
      const r = new Readable({ read() {} });
      process.nextTick(() => r.destroy(new AppError('STORE_NOT_FOUND', { detail: `blob ${key.slice(0, 40)}` })));
      return r;
    }
    return Readable.from([b]);
  }

  async exists(key: string): Promise<boolean> {
    return this.blobs.has(key);
  }

  async delete(key: string): Promise<void> {
    this.blobs.delete(key);
  }

  async close(): Promise<void> {}
}
