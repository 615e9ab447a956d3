import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ProgressLine } from '../../src/cli/progress.ts';

function tty(columns: number) {
  let out = '';
  const stream = Object.assign(new Writable({ write(c, _e, cb) { out += String(c); cb(); } }), { isTTY: true, columns });
  return { stream, get out() { return out; } };
}

describe('ProgressLine', () => {
  it('draws files/s and counts on a TTY, and clears the line at the end', () => {
    const t = tty(0);
    const p = new ProgressLine(t.stream);
    p.update({ done: 10, stored: 8, duplicate: 1, rejected: 1 });
    assert.match(t.out, /^\r10 files {2}\d+ files\/s {2}stored 8 {2}duplicate 1 {2}rejected 1\x1b\[K$/);
    p.finish();
    assert.ok(t.out.endsWith('\r\x1b[K'));
  });

  it('stays silent when stderr is not a terminal', () => {
    let out = '';
    const p = new ProgressLine(new Writable({ write(c, _e, cb) { out += String(c); cb(); } }));
    p.update({ done: 1, stored: 1, duplicate: 0, rejected: 0 });
    p.finish();
    assert.equal(out, '');
  });
});
