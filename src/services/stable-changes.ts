// Orthanc's /changes reports StableSeries and StableStudy once a resource has received no new
// instance for StableAge. The stable-study tracker (src/pipeline/) detects that for every stored
// instance, with or without pipelines; this turns its events into change-log rows.
import type { Logger } from '../core/log.ts';
import type { ArchiveIndex } from '../index/archive-index.ts';
import type { StableEvent } from '../pipeline/stability-repo.ts';

export interface StableChangeRecorder {
  /** PipelineRuntimeOptions.onStableEvents: never throws; rows are appended in event order. */
  readonly onEvents: (events: readonly StableEvent[]) => void;
  /** Resolves once every event handed over so far is recorded (tests, shutdown). */
  idle(): Promise<void>;
}

export function stableChangeRecorder(index: ArchiveIndex, log: Logger): StableChangeRecorder {
  let chain: Promise<void> = Promise.resolve();
  const record = async (events: readonly StableEvent[]) => {
    for (const e of events) {
      const level = e.type === 'StableStudy' ? 'study' : 'series';
      // Deleted during its quiet period: Orthanc reports nothing for a resource that is gone.
      if (!(await index.getResource(level, e.resourceKey))) continue;
      await index.appendChange(e.type, level, e.resourceKey);
    }
  };
  return {
    onEvents(events) {
      chain = chain.then(() => record(events)).catch((err: unknown) => log.error('stable change not recorded in /changes', { count: events.length, err }));
    },
    idle: () => chain,
  };
}
