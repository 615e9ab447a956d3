import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfig } from '../../src/config/load.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { isAppError } from '../../src/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'dg-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('defaults: embedded SQLite, ./data, DICOM 4242 DICOMGATE, HTTP 8042, auth on', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.index.kind, 'sqlite');
  assert.equal(c.dicom.port, 4242);
  assert.equal(c.dicom.aet, 'DICOMGATE');
  assert.equal(c.http.port, 8042);
  assert.equal(c.auth.enabled, true);
  assert.ok(c.dataDir.endsWith('/data'));
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.dicom) && Object.isFrozen(c.dicom.peers));
});

test('YAML and JSON files lay over defaults; flags override the file; port 0 is kept', () => {
  const y = file('a.yaml', 'dicom:\n  aet: RESEARCH\n  port: 11112\n  peers:\n    - { aet: PACS, host: 127.0.0.1, port: 104 }\nhttp:\n  port: 9000\n');
  const c = loadConfig({ file: y, env: {}, overrides: { 'dicom.port': 0 } });
  assert.equal(c.dicom.aet, 'RESEARCH');
  assert.equal(c.dicom.port, 0);
  assert.equal(c.http.port, 9000);
  assert.deepEqual(c.dicom.peers, [{ aet: 'PACS', host: '127.0.0.1', port: 104 }]);
  const j = file('a.json', JSON.stringify({ storage: { duplicates: 'overwrite' } }));
  assert.equal(loadConfig({ file: j, env: {} }).storage.duplicates, 'overwrite');
});

test('every problem is reported at once', () => {
  const y = file('bad.yaml', 'dicom:\n  aet: "THIS AE TITLE IS FAR TOO LONG"\n  port: "x"\n  colour: red\nstorage:\n  duplicates: sometimes\n');
  assert.throws(() => loadConfig({ file: y, env: {} }), (e: unknown) => {
    assert.ok(isAppError(e, 'CONFIG_INVALID'));
    const m = (e as Error).message;
    assert.match(m, /dicom\.aet/);
    assert.match(m, /"dicom\.port" must be a number/);
    assert.match(m, /unknown key "dicom\.colour"/);
    assert.match(m, /storage\.duplicates/);
    return true;
  });
});

test('secrets come from env: or file: references and never print', () => {
  const secretFile = file('pg-url', 'postgres://u:hunter2@localhost/db\n');
  const y = file('pg.yaml', `index: { kind: postgres }\npostgres:\n  url: "file:${secretFile}"\n`);
  const c = loadConfig({ file: y, env: {} });
  assert.equal(c.postgres.url?.reveal(), 'postgres://u:hunter2@localhost/db');
  assert.doesNotMatch(JSON.stringify(c), /hunter2/);
  assert.doesNotMatch(inspect(c, { depth: 10 }), /hunter2/);
  const e = file('pg-env.yaml', 'postgres:\n  url: "env:PGURL"\n');
  assert.equal(loadConfig({ file: e, env: { PGURL: 'x' } }).postgres.url?.reveal(), 'x');
  assert.throws(() => loadConfig({ file: e, env: {} }), /PGURL is not set/);
  const inline = file('inline.yaml', 'postgres:\n  url: "postgres://u:pw@h/db"\n');
  assert.throws(() => loadConfig({ file: inline, env: {} }), /secret reference/);
});

test('postgres index without a URL is refused with the fix', () => {
  const y = file('pg2.yaml', 'index: { kind: postgres }\n');
  assert.throws(() => loadConfig({ file: y, env: {} }), /postgres\.url/);
});

test('docs/configuration.md documents every key with its default', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const paths: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v) && k !== 'projects') walk(v as Record<string, unknown>, p);
      else paths.push(p);
    }
  };
  walk(defaultConfig() as unknown as Record<string, unknown>, '');
  const missing = paths.filter((p) => !doc.includes('`' + p + '`'));
  assert.deepEqual(missing, [], 'keys missing from docs/configuration.md');
});
