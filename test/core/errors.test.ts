import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERRORS, AppError } from '../../src/core/errors.ts';

test('every error code is documented in docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const missing = Object.keys(ERRORS).filter((c) => !doc.includes('`' + c + '`'));
  assert.deepEqual(missing, []);
});

test('AppError carries code, spec and cause', () => {
  const cause = new Error('disk full');
  const e = new AppError('STORE_UNAVAILABLE', { detail: 'blob ab/cd', cause });
  assert.equal(e.code, 'STORE_UNAVAILABLE');
  assert.equal(e.spec.dimse, 0xa700);
  assert.equal(e.cause, cause);
  assert.match(e.message, /Object store unavailable: blob ab\/cd/);
});
