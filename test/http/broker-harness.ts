// The HTTP app with the broker and projects surfaces over real adapters: an in-memory archive, an
// in-memory SQLite key database, a quarantine folder in a scratch directory, and one configured
// project "lung" (the harness users hold project "lung").
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log.ts';
import { resolveProject, type Project } from '../../src/deid/project.ts';
import { SqlitePseudonymStore } from '../../src/pseudonyms/sqlite/sqlite-pseudonym-store.ts';
import { StorePseudonymizer } from '../../src/pseudonyms/store-pseudonymizer.ts';
import { GatewayService, type GatewayProject } from '../../src/services/gateway.ts';
import { QuarantineStore } from '../../src/services/quarantine.ts';
import { buildHarness, type Harness, type HarnessOptions } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';

export const PROJECTS = { lung: { extends: 'longitudinal', overrides: { StudyDescription: 'keep' }, pseudonym: { idPattern: 'LUNG-{seq:04}', prefix: 'L' } } };

export interface BrokerSetup {
  surfaces: NonNullable<HarnessOptions['surfaces']>;
  keys: SqlitePseudonymStore;
  quarantine: QuarantineStore;
  gateway: GatewayService;
  project(name: string): GatewayProject | undefined;
  close(): Promise<void>;
}

export async function brokerSetup(): Promise<BrokerSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'dg-broker-'));
  const archive = memoryArchive();
  const keys = new SqlitePseudonymStore(':memory:');
  await keys.migrate();
  const quarantine = new QuarantineStore(join(dir, 'quarantine'));
  const gateway = new GatewayService({ ingest: archive.rest.archive.ingest, quarantine, log: silentLogger });
  const pseudonymizers = new Map<string, StorePseudonymizer>();
  const project = (name: string): GatewayProject | undefined => {
    let p: Project;
    try {
      p = resolveProject(name, PROJECTS);
    } catch {
      return undefined;
    }
    let ps = pseudonymizers.get(name);
    if (!ps) pseudonymizers.set(name, (ps = new StorePseudonymizer(keys, name, p.policy)));
    return { project: p, pseudonymizer: ps };
  };
  return {
    surfaces: {
      rest: archive.rest,
      gateway: { gateway, projectFor: project },
      broker: { keys, quarantine, gateway, projectFor: project, archive: archive.rest.archive },
      projects: { projects: PROJECTS, archive: archive.rest.archive, keys },
    },
    keys,
    quarantine,
    gateway,
    project,
    async close() {
      await keys.close();
      await archive.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function brokerHarness(): Promise<{ h: Harness; s: BrokerSetup; close(): Promise<void> }> {
  const s = await brokerSetup();
  const h = await buildHarness({ surfaces: s.surfaces });
  return {
    h,
    s,
    async close() {
      await h.close();
      await s.close();
    },
  };
}
