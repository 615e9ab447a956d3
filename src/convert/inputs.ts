// Input units for the converter: plain files, folders (recursive) and ZIP archives, each entry
// opened only when it is converted. Pictures in one folder form one series; each NIfTI file and
// each picture named directly is its own series. Folder names never reach the output (they often
// hold patient names); a grouped series is described by its first file's name.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { convertError } from './picture.ts';

export interface ConvertInput {
  /** As the user would recognise it: the path given, or archive!entry. Used in messages. */
  name: string;
  /** Inputs with the same key (pictures of one folder) become one series; undefined: own series. */
  seriesKey?: string;
  open(): Promise<Readable>;
}

export interface InputSet {
  inputs: ConvertInput[];
  /** Releases archives kept open for lazy reading. */
  close(): Promise<void>;
}

const IGNORED = /(^|\/)(\.|__MACOSX\/)|\.(json|txt|md|csv|xml|html?)$/i;

export function isNiftiName(name: string): boolean {
  return /\.nii(\.gz)?$/i.test(name);
}

export async function collectInputs(paths: string[]): Promise<InputSet> {
  const inputs: ConvertInput[] = [];
  const zips: yauzl.ZipFile[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      // Reported as that input's failure, like any other bad file: the rest of the batch goes on.
      inputs.push({ name: p, open: () => Promise.reject(convertError('IMPORT_UNREADABLE', p, 'no such file or folder, or not readable', e)) });
      continue;
    }
    if (st.isDirectory()) {
      for await (const f of walk(p)) {
        const rel = relative(p, f);
        if (IGNORED.test(rel)) continue;
        inputs.push(fileInput(f, isNiftiName(f) ? undefined : `dir:${dirname(f)}`));
      }
    } else if (/\.zip$/i.test(p)) {
      const zip = await openZip(p);
      zips.push(zip.file);
      inputs.push(...zip.inputs);
    } else {
      inputs.push(fileInput(p, undefined));
    }
  }
  return { inputs, close: async () => { for (const z of zips) z.close(); } };
}

function fileInput(path: string, seriesKey: string | undefined): ConvertInput {
  const input: ConvertInput = { name: path, open: async () => createReadStream(path) };
  if (seriesKey !== undefined) input.seriesKey = seriesKey;
  return input;
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile()) yield full;
  }
}

async function openZip(path: string): Promise<{ file: yauzl.ZipFile; inputs: ConvertInput[] }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(convertError('IMPORT_UNREADABLE', path, `not a readable ZIP (${err.message})`, err)) : resolve(z))));
  const entries: yauzl.Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => { entries.push(e); zip.readEntry(); });
    zip.on('end', () => resolve());
    zip.on('error', (err: Error) => reject(convertError('IMPORT_UNREADABLE', path, `corrupt ZIP (${err.message})`, err)));
    zip.readEntry();
  });
  const inputs: ConvertInput[] = [];
  for (const e of entries.sort((a, b) => a.fileName.localeCompare(b.fileName))) {
    if (e.fileName.endsWith('/') || IGNORED.test(e.fileName)) continue;
    const folder = dirname(e.fileName);
    const input: ConvertInput = {
      name: `${path}!${e.fileName}`,
      open: () => new Promise<Readable>((resolve, reject) => zip.openReadStream(e, (err, s) => (err ? reject(err) : resolve(s)))),
    };
    if (!isNiftiName(e.fileName)) input.seriesKey = `zip:${path}!${folder}`;
    inputs.push(input);
  }
  return { file: zip, inputs };
}

/** One upload or stream (HTTP multipart part, stdin): converted as its own series. */
export function streamInput(name: string, stream: Readable): ConvertInput {
  let used = false;
  return {
    name,
    open: async () => {
      if (used) throw convertError('IMPORT_UNREADABLE', name, 'stream already consumed');
      used = true;
      return stream;
    },
  };
}
