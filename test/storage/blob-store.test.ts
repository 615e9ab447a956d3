import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { text } from 'node:stream/consumers';
import { isAppError } from '../../src/core/errors.ts';
import { isBlobKey, type BlobStore } from '../../src/storage/blob-store.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.ts';

function contract(name: string, make: () => Promise<BlobStore>) {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    before(async () => {
      store = await make();
    });

    it('put then get returns the same bytes under a random, PHI-free key', async () => {
      const key = await store.put([Buffer.from('hello '), Buffer.from('world')]);
      assert.ok(isBlobKey(key), key);
      assert.equal((await store.get(key)).toString(), 'hello world');
      assert.equal(await text(store.createReadStream(key)), 'hello world');
      assert.ok(await store.exists(key));
      assert.notEqual(await store.put(Buffer.from('hello world')), key, 'keys are random, not content hashes');
    });

    it('get returns empty and multi-megabyte blobs whole, byte for byte', async () => {
      const empty = await store.put(Buffer.alloc(0));
      assert.equal((await store.get(empty)).length, 0);
      const big = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      const key = await store.put([big.subarray(0, 1000), big.subarray(1000)]);
      assert.ok((await store.get(key)).equals(big));
      // The index's size is only a hint: right, too small or too large, the bytes come back whole.
      for (const hint of [big.length, 10, big.length + 5000, 0]) assert.ok((await store.get(key, hint)).equals(big), `hint ${hint}`);
      assert.equal((await store.get(empty, 0)).length, 0);
      assert.equal((await store.get(empty, 100)).length, 0);
    });

    it('a writer is invisible until commit, and abort leaves nothing', async () => {
      const w = await store.open();
      await w.write(Buffer.from('abc'));
      await w.write(Buffer.from('def'));
      assert.equal(w.size, 6);
      assert.equal((await w.readStaged()).toString(), 'abcdef');
      assert.equal(await store.exists(w.key), false);
      assert.equal(await w.commit(), w.key);
      assert.equal((await store.get(w.key)).toString(), 'abcdef');

      const a = await store.open();
      await a.write(Buffer.from('x'));
      await a.abort();
      await a.abort();
      assert.equal(await store.exists(a.key), false);
      await assert.rejects(a.write(Buffer.from('y')), (e) => isAppError(e, 'STORE_UNAVAILABLE'));
    });

    it('putBatch stores every item durably under its own key', async () => {
      const items = Array.from({ length: 10 }, (_, i) => Buffer.from(`item ${i}`));
      const keys = await store.putBatch(items);
      assert.equal(new Set(keys).size, 10);
      for (const [i, k] of keys.entries()) {
        assert.equal(typeof k, 'string');
        assert.equal((await store.get(k as string)).toString(), `item ${i}`);
      }
      assert.deepEqual(await store.putBatch([]), []);
    });

    it('putBatch copies files given by path, and reports a missing one in its place', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dg-src-'));
      try {
        await writeFile(join(dir, 'a'), 'from a file');
        const [k, missing, mem] = await store.putBatch([{ path: join(dir, 'a') }, { path: join(dir, 'nope') }, Buffer.from('mem')]);
        assert.equal((await store.get(k as string)).toString(), 'from a file');
        assert.ok(isAppError(missing, 'IMPORT_UNREADABLE') && /ENOENT/.test(missing.message), String(missing));
        assert.equal((await store.get(mem as string)).toString(), 'mem');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('get of an unknown or malformed key is STORE_NOT_FOUND; delete is idempotent', async () => {
      await assert.rejects(store.get('0'.repeat(32)), (e) => isAppError(e, 'STORE_NOT_FOUND'));
      await assert.rejects(store.get('../../etc/passwd'), (e) => isAppError(e, 'STORE_NOT_FOUND'));
      await assert.rejects(text(store.createReadStream('f'.repeat(32))), (e) => isAppError(e, 'STORE_NOT_FOUND'));
      assert.equal(await store.exists('../x'), false);
      const key = await store.put(Buffer.from('gone'));
      await store.delete(key);
      await store.delete(key);
      assert.equal(await store.exists(key), false);
    });
  });
}

contract('memory', async () => new MemoryBlobStore());

describe('FsBlobStore', () => {
  let root: string;
  let store: FsBlobStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'dg-blob-'));
    store = await FsBlobStore.create(join(root, 'blobs'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  contract('fs', async () => FsBlobStore.create(join(root, 'contract')));

  it('lays blobs out as ab/cd/<key> and stages temp files in the same folder', async () => {
    const w = await store.open();
    await w.write(Buffer.from('staged'));
    const temps = await store.listTemporaryFiles();
    assert.equal(temps.length, 1);
    const final = store.pathFor(w.key);
    assert.equal(relative(store.root, final).split(sep).join('/'), `${w.key.slice(0, 2)}/${w.key.slice(2, 4)}/${w.key}`);
    assert.equal(join(temps[0], '..'), join(final, '..'), 'temp file sits beside its final name (atomic rename)');
    assert.deepEqual(await store.listKeys(), [], 'a staged file is not a key');
    await w.commit();
    assert.deepEqual(await store.listTemporaryFiles(), []);
    assert.deepEqual(await store.listKeys(), [w.key]);
    assert.equal((await stat(final)).size, 6);
  });

  it('sweeps stale temp files and keeps committed blobs', async () => {
    const w = await store.open();
    await w.write(Buffer.from('left behind by a crash'));
    assert.equal(await store.sweepTemporaryFiles(60_000), 0, 'recent temp files are spared');
    assert.equal(await store.sweepTemporaryFiles(-1), 1);
    await w.abort();
    assert.deepEqual(await store.listTemporaryFiles(), []);
    assert.ok((await store.listKeys()).length >= 1);
  });

  it('putBatch puts one group in one leaf folder and leaves no temp files', async () => {
    const keys = (await store.putBatch(Array.from({ length: 8 }, (_, i) => Buffer.from(String(i))))) as string[];
    assert.equal(new Set(keys.map((k) => k.slice(0, 4))).size, 1);
    assert.deepEqual(await store.listTemporaryFiles(), []);
    const other = (await store.putBatch([Buffer.from('x')])) as string[];
    assert.ok(await store.exists(other[0]));
  });

  it('streamed writes fill one leaf folder for a run of keys, then move to another', async () => {
    const prefixes: string[] = [];
    for (let i = 0; i < 300; i++) {
      const w = await store.open();
      prefixes.push(w.key.slice(0, 4));
      await w.abort();
    }
    const runs = prefixes.filter((p, i) => i === 0 || p !== prefixes[i - 1]).length;
    assert.ok(runs >= 3 && runs <= 4, `300 keys in ${runs} runs of folders (128 keys per run)`);
    assert.ok(new Set(prefixes).size >= 2);
  });

  it('a writer buffers behind: stagedHead and readStaged see every byte, commit persists them in order', async () => {
    const w = await store.open();
    const parts = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100_000 + i, i));
    for (const p of parts) await w.write(p);
    const all = Buffer.concat(parts);
    assert.equal(w.size, all.length);
    const head = w.stagedHead();
    assert.ok(head.length >= 64 * 1024);
    assert.deepEqual(Buffer.from(head), all.subarray(0, head.length));
    assert.ok((await w.readStaged()).equals(all));
    await w.write(Buffer.from('tail'));
    await w.commit();
    assert.ok((await store.get(w.key)).equals(Buffer.concat([all, Buffer.from('tail')])));
    const small = await store.open();
    await small.write(Buffer.from('abc'));
    assert.equal(Buffer.from(small.stagedHead()).toString(), 'abc', 'a small object is whole in its head');
    await small.abort();
  });
  it('a commit that fails (its folder vanished) rejects, and leaves neither the key nor a temp file', async () => {
    const s2 = await FsBlobStore.create(join(root, 'failing'));
    try {
      const w = await s2.open();
      await w.write(Buffer.alloc(300 * 1024, 7));
      await rm(join(s2.pathFor(w.key), '..'), { recursive: true, force: true });
      await assert.rejects(w.commit(), (e: unknown) => isAppError(e));
      assert.deepEqual(await s2.listKeys(), []);
      assert.deepEqual(await s2.listTemporaryFiles(), []);
      // The store goes on: buffers and worker are fine for the next writer.
      const ok = await s2.open();
      await ok.write(Buffer.from('after'));
      assert.equal((await s2.get(await ok.commit())).toString(), 'after');
    } finally {
      await s2.close();
    }
  });

  it('journaled opens hand out a writer prepared during the previous one; close removes an unused one', async () => {
    const s3 = await FsBlobStore.create(join(root, 'spares'));
    const a = await s3.open({ journal: true });
    await a.write(Buffer.from('first'));
    // The next journaled writer is being prepared meanwhile: two temp files, one ours.
    for (let i = 0; i < 50 && (await s3.listTemporaryFiles()).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await s3.listTemporaryFiles()).length, 2);
    await a.commit();
    const b = await s3.open({ journal: true });
    await b.write(Buffer.from('second'));
    const keys = [a.key, await b.commit()];
    assert.equal(new Set(keys).size, 2);
    assert.equal((await s3.get(keys[1])).toString(), 'second');
    await s3.close();
    assert.deepEqual(await s3.listTemporaryFiles(), [], 'the prepared writer nobody took is removed at close');
    assert.deepEqual((await s3.listKeys()).sort(), [...keys].sort());
  });
  it('a 6 MB object streamed in 64 KB chunks (written behind, with flushes for backpressure) reads back byte for byte', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i >>> 2, i - (i + 4 > big.length ? i + 4 - big.length : 0));
    const w = await store.open({ journal: true });
    for (let off = 0; off < big.length; off += 65536) await w.write(big.subarray(off, off + 65536));
    assert.deepEqual(Buffer.from(w.stagedHead()).subarray(0, 1024), big.subarray(0, 1024));
    assert.ok((await store.get(await w.commit())).equals(big));
  });
});
