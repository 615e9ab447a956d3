// Child process of the import crash test: imports a folder and prints "progress <files>" after every
// group commit, so the parent can SIGKILL it mid-import.
// Usage: node --import tsx test/helpers/import-crash-child.ts <dataDir> <inputDir> [batchSize]
import { openArchive } from '../../src/services/archive.ts';
import { importPaths } from '../../src/services/import-files.ts';

const [dataDir, inputDir, batch] = process.argv.slice(2);
const archive = await openArchive(dataDir, { duplicates: 'keep-first' });
const summary = await importPaths(archive.ingest, [inputDir], {
  batchSize: Number(batch ?? 8),
  onProgress: (s) => process.stdout.write(`progress ${s.files}\n`),
});
await archive.close();
process.stdout.write(`done ${JSON.stringify({ stored: summary.stored, duplicate: summary.duplicate, rejected: summary.rejected })}\n`);
