// The real server for tests: startServer (the composition root `dicomgate serve` runs), configured
// through a config file as a user would, in dev mode (no sign-in) with silent logs, data in
// <dir>/data, on loopback with ports the OS picks.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startServer, type RunningServer } from '../../src/main.ts';

let files = 0;

/** `cfg`: the config file's keys (over dev and silent logs); `env`: what `env:` secrets resolve against. */
export function startServerWith(dir: string, cfg: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const file = join(dir, `config-${++files}.json`);
  writeFileSync(file, JSON.stringify({ dev: true, log: { level: 'silent' }, ...cfg }));
  const config = loadConfig({ file, env, overrides: { dataDir: join(dir, 'data'), 'dicom.port': 0, 'http.port': 0, host: '127.0.0.1' } });
  return startServer(config, silentLogger);
}
