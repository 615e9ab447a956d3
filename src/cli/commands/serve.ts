import { createLogger } from '../../core/log.ts';
import { startServer } from '../../main.ts';
import { intFlag, type Command } from '../command.ts';

export const command: Command = {
  name: 'serve',
  summary: 'run the DICOM and HTTP servers',
  usage: `[options]

Runs the DICOM node (C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET) and the HTTP server (/health,
DICOMweb, REST) on the data folder. Stops cleanly on SIGINT/SIGTERM.

Options:
  --aet <AE>            our AE title (default DICOMGATE)
  --dicom-port <n>      DICOM port (default 4242; 0 picks a free port)
  --http-port <n>       HTTP port (default 8042; 0 picks a free port)
  --host <addr>         address to bind (default 0.0.0.0; 127.0.0.1 with --dev)
  --dev                 development mode: authentication off, bound to localhost unless --host

With authentication on (the default) at least one user must exist: create one with
"dicomgate users add <name> --role admin --password-file <file>", or set DICOMGATE_ADMIN_USER and
DICOMGATE_ADMIN_PASSWORD (or DICOMGATE_ADMIN_PASSWORD_FILE) for the first start.

The bound ports are logged on one line: "listening dicom=<port> http=<port>".`,
  options: {
    aet: { type: 'string' },
    'dicom-port': { type: 'string' },
    'http-port': { type: 'string' },
    host: { type: 'string' },
    dev: { type: 'boolean' },
  },
  allowPositionals: false,
  configOverrides: (v) => ({
    'dicom.aet': v.aet,
    'dicom.port': intFlag(v['dicom-port'], 'dicom-port'),
    'http.port': intFlag(v['http-port'], 'http-port'),
    // Development mode has no login, so unless told otherwise it listens on this machine only.
    host: v.host ?? (v.dev ? '127.0.0.1' : undefined),
    dev: v.dev,
  }),
  async run(_args, ctx) {
    const logger = createLogger({ level: ctx.config.log.level, stream: ctx.stderr });
    const server = await startServer(ctx.config, logger);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info('stopping', { signal });
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};
