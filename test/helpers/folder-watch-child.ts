// Child process of the folder-watch crash test: runs `serve` (startServer) on a config file and
// prints "ready" once listening, so the parent can SIGKILL it while it is taking a drop folder.
// Usage: node --import tsx test/helpers/folder-watch-child.ts <config.json> <dataDir>
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startServer } from '../../src/main.ts';

const [file, dataDir] = process.argv.slice(2);
await startServer(loadConfig({ file, env: {}, overrides: { dataDir, 'dicom.port': 0, 'http.port': 0, host: '127.0.0.1' } }), silentLogger);
process.stdout.write('ready\n');
