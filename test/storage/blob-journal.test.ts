// The blob store's journal of folders (fs-blob-store.ts): a journaled writer's folder is listed
// durably before open() resolves, stays listed while a writer there waits for its index row, and
// leaves only after the index sync passed to trimJournal has resolved.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore, journalPath } from '../../src/storage/fs-blob-store.ts';

const folderOf = (key: string) => `${key.slice(0, 2)}/${key.slice(2, 4)}`;
const journalLines = async (root: string) =>
  (await readFile(journalPath(root), 'utf8').catch(() => '')).split('\n').filter(Boolean);

describe('FsBlobStore journal', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dg-journal-'));
    store = await FsBlobStore.create(join(dir, 'blobs'));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists a journaled writer\'s folder in the file before open() resolves; plain writers add nothing', async () => {
    const plain = await store.open();
    assert.equal(plain.journaled ?? false, false);
    assert.deepEqual(await journalLines(store.root), []);
    await plain.abort();
    const w = await store.open({ journal: true });
    assert.equal(w.journaled, true);
    assert.deepEqual(await journalLines(store.root), [folderOf(w.key)]);
    const w2 = await store.open({ journal: true });
    assert.equal(folderOf(w2.key), folderOf(w.key), 'same current folder');
    assert.deepEqual(await journalLines(store.root), [folderOf(w.key)], 'listed once');
    await w.abort();
    await w2.abort();
  });

  it('journaledBlobs lists the committed blobs of journaled folders left by an earlier process', async () => {
    const w = await store.open({ journal: true });
    await w.write(Buffer.from('abc'));
    await w.commit();
    assert.deepEqual(await store.journaledBlobs(), [], 'not the folders this process writes to (rows on their way)');
    await store.close();
    store = await FsBlobStore.create(join(dir, 'blobs'));
    const found = await store.journaledBlobs();
    assert.deepEqual(found.map((b) => b.key), [w.key]);
    assert.equal(found[0].path, store.pathFor(w.key));
  });

  it('trim keeps the current folder and folders with unreleased writers, and drops the rest only after the sync', async () => {
    // Three folders: 128 keys each, so the 129th and 257th open move on.
    const first = await store.open({ journal: true });
    const fillers = [];
    for (let i = 0; i < 127; i++) fillers.push(await store.open({ journal: true }));
    const second = await store.open({ journal: true });
    for (let i = 0; i < 127; i++) fillers.push(await store.open({ journal: true }));
    const third = await store.open({ journal: true });
    const folders = [first, second, third].map((w) => folderOf(w.key));
    assert.equal(new Set(folders).size, 3);
    assert.deepEqual(await journalLines(store.root), folders);
    for (const f of fillers) await f.abort();
    // first: released (its row committed); second: still waiting for its row; third: current.
    await first.write(Buffer.from('1'));
    await first.commit();
    first.release!();
    let synced = false;
    let releaseSync!: () => void;
    const trim = store.trimJournal(() => new Promise<void>((resolve) => (releaseSync = () => ((synced = true), resolve()))));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(synced, false);
    assert.deepEqual(await journalLines(store.root), folders, 'nothing dropped before the index sync');
    releaseSync();
    await trim;
    assert.deepEqual(await journalLines(store.root), [folders[1], folders[2]]);
    assert.equal(store.journalSize, 2);
    // A folder that gets a writer while the sync runs stays (its row may commit after the sync).
    await second.abort();
    await third.abort();
    const after = await store.open({ journal: true });
    assert.equal(folderOf(after.key), folders[2]);
    await store.trimJournal(async () => undefined);
    assert.deepEqual(await journalLines(store.root), [folders[2]], 'second dropped once released; third is current');
    await after.abort();
    // `all` (recovery) keeps folders this process has written to, whatever their state.
    await store.trimJournal(async () => undefined, { all: true });
    assert.deepEqual(await journalLines(store.root), [folders[2]]);
    // Appends after a rewrite go to the new file.
    for (let i = 0; i < 200; i++) await (await store.open({ journal: true })).abort();
    assert.equal((await journalLines(store.root)).length, 2);
    // A new process (store) drops them all with `all`.
    await store.close();
    store = await FsBlobStore.create(join(dir, 'blobs'));
    await store.trimJournal(async () => undefined, { all: true });
    assert.deepEqual(await journalLines(store.root), []);
  });

  it('a new store reads the journal left by the previous process', async () => {
    const w = await store.open({ journal: true });
    await w.write(Buffer.from('x'));
    await w.commit();
    await store.close();
    store = await FsBlobStore.create(join(dir, 'blobs'));
    assert.deepEqual((await store.journaledBlobs()).map((b) => b.key), [w.key]);
  });
});
