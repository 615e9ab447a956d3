// A folder as a route destination: each item is exported with a path template (disk-exporter.ts).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import type { Destination } from '../pipeline/route-queue.ts';
import { DiskExporter, type DiskExportOptions } from './disk-exporter.ts';
import { writeFolderDicomdir, type DicomdirResult } from './disk-dicomdir.ts';
import { makeDirs } from './make-dirs.ts';

/**
 * Reads an item (archive reference) as Part-10 bytes. With `into`, the loader may read into that
 * buffer and answer a view of it (callers that handle one item at a time recycle one buffer: a fresh
 * half-megabyte buffer per instance costs page faults and full garbage collections); a buffer too
 * small is ignored. The answer is only valid until the caller's next load into the same buffer.
 */
export type ItemLoader = (item: string, into?: Buffer) => Promise<Uint8Array>;

export class DiskDestination implements Destination {
  readonly name: string;
  readonly #exporter: DiskExporter;
  readonly #root: string;
  readonly #load: ItemLoader;
  readonly #dicomdir: boolean;
  /** DICOMDIR rebuilds of this process, one at a time (two jobs finishing together). */
  #rebuilding: Promise<unknown> = Promise.resolve();

  constructor(name: string, opts: DiskExportOptions, load: ItemLoader) {
    this.name = name;
    this.#exporter = new DiskExporter(opts);
    this.#root = opts.root;
    this.#load = load;
    this.#dicomdir = opts.dicomdir === true;
  }

  async send(item: string): Promise<void> {
    await this.#exporter.exportInstance(await this.#load(item));
  }

  /** After an export job (a study or series) is complete: the root's DICOMDIR, when enabled. */
  async afterJob(): Promise<void> {
    if (this.#dicomdir) await this.rebuildDicomdir();
  }

  rebuildDicomdir(): Promise<DicomdirResult> {
    const run = this.#rebuilding.then(() => writeFolderDicomdir(this.#root));
    this.#rebuilding = run.catch(() => undefined);
    return run.catch((e: unknown) => {
      throw new AppError('EXPORT_WRITE_FAILED', { detail: `DICOMDIR of destination ${this.name}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, cause: e });
    });
  }

  /** The folder exists (or can be created) and is writable. */
  async test(): Promise<void> {
    const probe = join(this.#root, `.dg-probe-${randomBytes(4).toString('hex')}`);
    try {
      await makeDirs(this.#root);
      await fs.writeFile(probe, '');
      await fs.rm(probe);
    } catch (e) {
      throw new AppError('EXPORT_WRITE_FAILED', { detail: `destination ${this.name} is not writable: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, cause: e });
    }
  }
}
