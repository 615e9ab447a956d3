// `npm run bench [-- <name>...] [--slices N]`: runs benchmarks and writes bench/out/<name>.json.
// Each benchmark runs its reference (cp, dcmdump, storescp, Orthanc...) in the same run and prints ratios.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { foundationBench } from './foundation.ts';

const BENCHES: Record<string, (o: { slices: number }) => Promise<Record<string, unknown>>> = {
  foundation: foundationBench,
};

const { values, positionals } = parseArgs({ options: { slices: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
if (values.help) {
  console.log(`Usage: npm run bench -- [${Object.keys(BENCHES).join('|')}]... [--slices N]  (default: all, 1000 slices)`);
  process.exit(0);
}
const names = positionals.length ? positionals : Object.keys(BENCHES);
const slices = Number(values.slices ?? 1000);
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`== ${name}`);
  const result = await bench({ slices });
  writeFileSync(new URL(`./out/${name}.json`, import.meta.url), JSON.stringify(result, null, 2));
}
