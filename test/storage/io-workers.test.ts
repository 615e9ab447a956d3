import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoWorkers, SharedBuffers } from '../../src/storage/io-workers.ts';

describe('IoWorkers and SharedBuffers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-io-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shared buffers are reused, and idle ones beyond `keep` are retired and their numbers reused', () => {
    const pool = new SharedBuffers(1024, 1);
    const news: string[] = [];
    pool.subscribe((n) => news.push('retired' in n ? `retired ${n.retired}` : `new ${n.first}`));
    const a = pool.take();
    const b = pool.take();
    assert.equal(pool.count, 2);
    pool.give(a);
    pool.give(b);
    assert.equal(pool.count, 1, 'one idle buffer kept, the other retired');
    assert.equal(pool.take(), a, 'the kept one comes back first');
    const c = pool.take();
    assert.equal(c.index, b.index, 'a retired number is reused for a new buffer');
    assert.deepEqual(news, ['new 0', 'new 1', 'retired 1', 'new 1']);
  });

  it('a pinned file is written from shared buffers and committed; retired and renumbered buffers stay correct in the workers', async () => {
    const pool = new SharedBuffers(4, 0);
    const io = new IoWorkers(2, pool);
    try {
      for (let round = 0; round < 3; round++) {
        const f = await io.openFile(join(dir, `.t${round}.tmp`));
        const x = pool.take();
        const y = pool.take();
        x.buf.write(`ab${round}c`);
        y.buf.write('wxyz');
        f.write([{ b: x, len: 4, pos: 0 }]);
        await f.commit(join(dir, `f${round}`), dir, [{ b: y, len: 2, pos: 4 }]);
        // keep = 0: both retire; the next round's buffers reuse numbers 0 and 1 with new memory.
        pool.give(x);
        pool.give(y);
        assert.equal(readFileSync(join(dir, `f${round}`), 'utf8'), `ab${round}cwx`);
        assert.equal(existsSync(join(dir, `.t${round}.tmp`)), false);
      }
    } finally {
      await io.close();
    }
  });

  it('a failing step rejects with its errno code and leaves no file behind', async () => {
    const pool = new SharedBuffers(8);
    const io = new IoWorkers(1, pool);
    try {
      await assert.rejects(io.openFile(join(dir, 'no-such-folder', '.x.tmp')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
      const f = await io.openFile(join(dir, '.y.tmp'));
      const b = pool.take();
      b.buf.write('12345678');
      await assert.rejects(f.commit(join(dir, 'gone', 'y'), join(dir, 'gone'), [{ b, len: 8, pos: 0 }]), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
      assert.equal(existsSync(join(dir, '.y.tmp')), false, 'the temp file is removed after a failed commit');
    } finally {
      await io.close();
    }
  });
});
