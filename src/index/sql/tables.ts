// The four level tables and how they link, shared by the query builder and the SQL index.
import { LEVELS, type Level } from '../resource-ids.ts';

export interface LevelTable {
  table: string;
  /** Alias used in compiled queries. */
  alias: string;
  /** Foreign key to the parent level's `pk`. */
  parentColumn?: string;
  parentLevel?: Level;
}

export const TABLES: Record<Level, LevelTable> = {
  patient: { table: 'patients', alias: 'p' },
  study: { table: 'studies', alias: 'st', parentColumn: 'patient_pk', parentLevel: 'patient' },
  series: { table: 'series', alias: 'se', parentColumn: 'study_pk', parentLevel: 'study' },
  instance: { table: 'instances', alias: 'i', parentColumn: 'series_pk', parentLevel: 'series' },
};

export function levelIndex(level: Level): number {
  return LEVELS.indexOf(level);
}

export function childLevel(level: Level): Level | undefined {
  return LEVELS[levelIndex(level) + 1];
}
