// `npm run bench [-- <name>...] [--slices N] [--small N] [--repeat N] [--servers a,b]`: runs
// benchmarks and writes bench/out/<name>.json. Each benchmark runs its reference (cp, dcmdump,
// storescp, Orthanc...) in the same run and prints ratios.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { dimseBench } from './dimse.ts';
import { foundationBench } from './foundation.ts';
import { deidBench } from './deid.ts';
import { durabilityBench } from './durability.ts';
import { httpBench } from './http.ts';
import { pipelineBench } from './pipeline.ts';

interface BenchOptions {
  slices: number;
  small?: number;
  repeat?: number;
  servers?: string[];
}

const BENCHES: Record<string, (o: BenchOptions) => Promise<Record<string, unknown>>> = {
  foundation: foundationBench,
  deid: deidBench,
  durability: durabilityBench,
  dimse: dimseBench,
  http: httpBench,
  pipeline: pipelineBench,
};

const { values, positionals } = parseArgs({
  options: {
    slices: { type: 'string' },
    small: { type: 'string' },
    repeat: { type: 'string' },
    servers: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
});
if (values.help) {
  console.log(`Usage: npm run bench -- [${Object.keys(BENCHES).join('|')}]... [--slices N] [--small N] [--repeat N] [--servers dicomgate,gateway,storescp,orthanc]
  --slices   CT slices (default 1000)
  --small    dimse: small instances to push (default 30000; 0 skips)
  --repeat   runs per measurement, median reported (default 1; durability: 5)
  --servers  dimse: which servers to push into (default all; gateway = dicomgate de-identifying with project basic)`);
  process.exit(0);
}
const names = positionals.length ? positionals : Object.keys(BENCHES);
const opts: BenchOptions = {
  slices: Number(values.slices ?? 1000),
  ...(values.small !== undefined && { small: Number(values.small) }),
  ...(values.repeat !== undefined && { repeat: Number(values.repeat) }),
  ...(values.servers !== undefined && { servers: values.servers.split(',') }),
};
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  const before = loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`== ${name} (load average ${before})`);
  const result = await bench(opts);
  const after = loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`(load average after: ${after})`);
  writeFileSync(new URL(`./out/${name}.json`, import.meta.url), JSON.stringify({ ...result, loadBefore: before, loadAfter: after }, null, 2));
}
