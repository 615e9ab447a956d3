import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthService } from '../../src/auth/auth-service.ts';
import { openSqliteAuth } from '../../src/auth/open-sqlite-auth.ts';
import { runCli as run } from '../helpers/run-cli.ts';

const bin = new URL('../../bin/dicomgate', import.meta.url).pathname;

test('users add/list/passwd/token-create/token-revoke/remove over one data folder', async () => {
  const data = mkdtempSync(join(tmpdir(), 'dg-users-'));
  try {
    const pw = join(data, 'pw');
    writeFileSync(pw, 'first password 123\n');
    const d = ['--data', data];
    assert.equal((await run(['users', 'add', 'alice', '--role', 'researcher', '--project', 'lung', '--password-file', pw, ...d])).code, 0);
    const dup = await run(['users', 'add', 'alice', '--role', 'researcher', '--password-file', pw, ...d]);
    assert.equal(dup.code, 1);
    assert.match(dup.err, /User already exists/);
    const noRole = await run(['users', 'add', 'bob', '--password-file', pw, ...d]);
    assert.equal(noRole.code, 2);
    const badRole = await run(['users', 'add', 'bob', '--role', 'root', '--password-file', pw, ...d]);
    assert.equal(badRole.code, 1);
    assert.match(badRole.err, /unknown role "root"/);
    const tok = await run(['users', 'token-create', 'alice', '--label', 'pydicer', '--expires-days', '30', ...d]);
    assert.equal(tok.code, 0);
    const token = tok.out.trim();
    assert.match(token, /^dg_/);
    const tokenId = /token (\S+) for alice/.exec(tok.err)![1];
    const list = await run(['users', 'list', ...d]);
    assert.match(list.out, /^alice\troles=researcher\tprojects=lung\n  token \S+\tpydicer\tactive/m);
    assert.ok(!list.out.includes(token));
    writeFileSync(pw, 'second password 456\n');
    assert.equal((await run(['users', 'passwd', 'alice', '--password-file', pw, ...d])).code, 0);

    const db = openSqliteAuth(join(data, 'index.sqlite'));
    const auth = new AuthService({ store: db.users });
    assert.ok(await auth.checkPassword('alice', 'second password 456'));
    assert.ok(await auth.authenticateToken(token));
    db.close();

    assert.equal((await run(['users', 'update', 'alice', '--role', 'broker', '--project', 'brain', '--disable', ...d])).code, 0);
    assert.match((await run(['users', 'list', ...d])).out, /^alice\troles=broker\tprojects=brain \[disabled\]/m);
    assert.equal((await run(['users', 'update', 'alice', '--enable', '--role', 'researcher', '--no-projects', ...d])).code, 0);
    assert.match((await run(['users', 'list', ...d])).out, /^alice\troles=researcher\tprojects=-\n/m);
    assert.equal((await run(['users', 'update', 'alice', ...d])).code, 2);
    assert.equal((await run(['users', 'token-revoke', tokenId, ...d])).code, 0);
    assert.match((await run(['users', 'list', ...d])).out, /revoked/);
    assert.equal((await run(['users', 'remove', 'alice', ...d])).code, 0);
    assert.equal((await run(['users', 'list', ...d])).out, 'no users\n');
    assert.equal((await run(['users', 'remove', 'alice', ...d])).code, 1);
    const audit = readFileSync(join(data, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).action);
    assert.deepEqual(audit, ['user.add', 'token.create', 'user.passwd', 'user.update', 'user.update', 'token.revoke', 'user.remove']);
    assert.ok(!readFileSync(join(data, 'audit.log'), 'utf8').includes('second password'), 'no secret in the audit file');
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('users add reads the password from piped standard input', async () => {
  const data = mkdtempSync(join(tmpdir(), 'dg-users-'));
  try {
    const r = spawnSync(bin, ['users', 'add', 'carol', '--role', 'admin', '--data', data], { input: 'piped password 789\n', encoding: 'utf8', env: { ...process.env } });
    assert.equal(r.status, 0, r.stderr);
    const db = openSqliteAuth(join(data, 'index.sqlite'));
    const u = await new AuthService({ store: db.users }).checkPassword('carol', 'piped password 789');
    db.close();
    assert.deepEqual(u?.roles, ['admin']);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
