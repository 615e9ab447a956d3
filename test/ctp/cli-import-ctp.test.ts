// `dicomgate projects import-ctp` through the CLI entry point.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, type CliResult } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'dg-cli-ctp-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const STOCK = fileURLToPath(new URL('../../../shared/reference/ctp-DicomAnonymizer.script', import.meta.url));

const cli = (...argv: string[]): Promise<CliResult> => runCli([...argv, '--data', dir]);

it('imports the stock script into a project entry', async (t) => {
  if (!existsSync(STOCK)) return t.skip('reference script not present');
  const out = join(dir, 'p.json');
  const r = await cli('projects', 'import-ctp', STOCK, '--name', 'trial', '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /287 element scripts/);
  const entry = JSON.parse(readFileSync(out, 'utf8')) as { trial: { ctp: { script: string; strictSequences: boolean } } };
  assert.equal(entry.trial.ctp.script, STOCK);
  assert.equal(entry.trial.ctp.strictSequences, false);
});

it('refuses unsupported constructs with their line unless allowed; checks the lookup table', async () => {
  const s = join(dir, 'bad.script');
  writeFileSync(s, '<script>\n <p t="KEY">k</p>\n <e en="T" t="00100010" n="PatientName">@encrypt(this,@KEY)</e>\n</script>\n');
  let r = await cli('projects', 'import-ctp', s);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.script:3: unsupported: \(0010,0010\): @encrypt/);
  r = await cli('projects', 'import-ctp', s, '--allow-unsupported', '--strict-sequences');
  assert.equal(r.code, 0);
  assert.equal((JSON.parse(r.out) as Record<string, { ctp: { strictSequences: boolean } }>).bad!.ctp.strictSequences, true);
  const lk = join(dir, 'lookup.properties');
  writeFileSync(lk, 'ptid/1=A\ngarbage line\n');
  r = await cli('projects', 'import-ctp', s, '--allow-unsupported', '--lookup', lk);
  assert.equal(r.code, 1);
  assert.match(r.err, /line 2/);
  assert.equal((await cli('projects', 'frob')).code, 2);
});
