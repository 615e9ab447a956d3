// The pipeline's database as `serve` opens it (src/main.ts): the job and stable-study tables live in
// the index database, SQLite in the data folder or PostgreSQL. For the `jobs` and `studies` commands.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/schema.ts';
import { openPipelineDb } from '../../pipeline/open-pipeline-db.ts';
import { INDEX_FILE } from '../../services/archive.ts';

export function openConfiguredPipelineDb(cfg: ResolvedConfig): ReturnType<typeof openPipelineDb> {
  if (cfg.index.kind === 'sqlite') mkdirSync(cfg.dataDir, { recursive: true });
  return cfg.index.kind === 'postgres'
    ? openPipelineDb({ kind: 'postgres', url: cfg.postgres.url?.reveal() ?? '', schema: cfg.postgres.schema })
    : openPipelineDb({ kind: 'sqlite', path: join(cfg.dataDir, INDEX_FILE) });
}
