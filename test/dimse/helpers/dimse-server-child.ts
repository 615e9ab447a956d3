// A dicomgate DICOM server in its own process, for tests that kill it (SIGKILL) mid-push:
//   node --import tsx test/dimse/helpers/dimse-server-child.ts <dataDir>
// Prints {"port": n} on stdout once listening.
import { startDimseServer } from '../../../src/dimse-server/start-dimse-server.ts';
import { openArchive } from '../../../src/services/archive.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: dimse-server-child.ts <dataDir>');
const archive = await openArchive(dataDir, { duplicates: 'keep-first' });
const server = await startDimseServer({ ingest: archive.ingest, index: archive.index, blobs: archive.blobs }, { aet: 'DICOMGATE', host: '127.0.0.1', port: 0, peers: [] });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => archive.close()).then(() => process.exit(0));
});
