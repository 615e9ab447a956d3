// The ArchiveIndex port: patient/study/series/instance metadata of everything stored. Async so
// PostgreSQL fits (src/index/postgres/); the contract suite (test/index/index-contract.ts) runs unchanged
// against every implementation.
import type { MatchQuery, QueryPage } from './matching.ts';
import type { Level, ResourceIds } from './resource-ids.ts';

export type { Level, ResourceIds } from './resource-ids.ts';
export type { MatchQuery, QueryMatch, QueryPage } from './matching.ts';

/** What a second instance with an already stored SOP Instance UID does. */
export type DuplicatePolicy = 'keep-first' | 'overwrite';

/** How an instance reached us; AE titles and addresses are not PHI. */
export interface InstanceSource {
  transport: 'dimse' | 'stow' | 'rest' | 'import';
  /** The peer's AE title (calling AE of a C-STORE). */
  remoteAe?: string;
  /** The AE title the peer called (ours). */
  calledAe?: string;
  remoteHost?: string;
  /**
   * The de-identification project the instance went through (gateway intakes); absent for plain
   * intakes. Reads are filtered by it (ProjectScope), so a researcher sees only their projects.
   */
  project?: string;
}

/**
 * Which projects' data a reader may see (docs/security.md, "Project access"). Everywhere a scope
 * is optional, absent means everything (admin, or a user with project "*").
 */
export interface ProjectScope {
  /** Project names whose resources are visible. */
  projects: readonly string[];
  /** Also resources stored without a project (plain, non-gateway intakes). */
  unassigned: boolean;
}

/** Whether an instance recorded with `project` is in `scope`. */
export function inScope(project: string | undefined, scope: ProjectScope | undefined): boolean {
  if (scope === undefined) return true;
  return project === undefined ? scope.unassigned : scope.projects.includes(project);
}

/** One instance to record: its main tags (keyword → value, multi-values joined by '\') and its blob. */
export interface InstanceRecord {
  /** Values keyed by MAIN_TAGS keyword. SOPInstanceUID, SeriesInstanceUID and StudyInstanceUID are required. */
  tags: Readonly<Record<string, string | undefined>>;
  blobKey: string;
  fileSize: number;
  transferSyntaxUid: string;
  receivedAt: Date;
  source: InstanceSource;
}

export type StoreOutcome =
  /** New instance; `created` lists the levels that got a new resource (e.g. a new series). */
  | { status: 'stored'; ids: ResourceIds; created: Level[] }
  /** keep-first: an instance with this SOP Instance UID exists; nothing changed. `ids` are the existing one's. */
  | { status: 'duplicate'; ids: ResourceIds }
  /** overwrite: the previous instance was replaced; its blob is no longer referenced. */
  | { status: 'replaced'; ids: ResourceIds; replacedBlobKey: string };

export interface StoredFile {
  blobKey: string;
  fileSize: number;
  transferSyntaxUid: string;
  receivedAt: string;
  source: InstanceSource;
}

export interface ResourceRecord {
  level: Level;
  id: string;
  parentId: string | undefined;
  /** The level's own main tags ('' present but empty, null absent); studies include ModalitiesInStudy. */
  tags: Record<string, string | null>;
  /** Instances only. */
  file?: StoredFile;
}

export interface DeleteResult {
  /** Every resource removed: the target, then ancestors left empty. */
  deleted: { level: Level; id: string }[];
  /** Blobs no longer referenced: delete them from the BlobStore after the index commit. */
  blobKeys: string[];
  /** The closest ancestor still present (Orthanc's RemainingAncestor). */
  remainingAncestor?: { level: Level; id: string };
}

export type ChangeType =
  | 'NewPatient' | 'NewStudy' | 'NewSeries' | 'NewInstance' | 'Deleted'
  /** No new instance for the stable age (Orthanc's StableAge), appended by the pipeline runtime. */
  | 'StablePatient' | 'StableStudy' | 'StableSeries';

export interface Change {
  seq: number;
  type: ChangeType;
  level: Level;
  resourceId: string;
  /** ISO 8601. */
  date: string;
}

export interface ChangesPage {
  changes: Change[];
  /** Highest seq returned (or `since` when none). */
  last: number;
  /** No change after `last`. */
  done: boolean;
}

export interface IndexStatistics {
  patients: number;
  studies: number;
  series: number;
  instances: number;
  /** Sum of stored file sizes in bytes. */
  totalSize: number;
}

export interface StoreOptions {
  /**
   * false: the commit survives a crash of the process but may be lost on a power loss; the caller
   * keeps its own durable record to re-index from (the blob store's journal of folders, see
   * IngestService.recoverUnindexed). Only honoured where syncCommitted exists. Default true.
   */
  durable?: boolean;
}

export interface ArchiveIndex {
  /**
   * Records instances in ONE transaction and returns one outcome per record, in order. When it
   * resolves the rows are committed (durably, for the SQLite implementation: synchronous=FULL).
   * Throws (recording nothing) on a storage failure or a record missing its UIDs.
   */
  storeInstances(records: readonly InstanceRecord[], duplicates: DuplicatePolicy, opts?: StoreOptions): Promise<StoreOutcome[]>;
  /**
   * Makes every commit made so far durable, after storeInstances with `durable: false`. Absent on
   * an index whose commits are always durable (callers then never ask for non-durable ones).
   */
  syncCommitted?(): Promise<void>;
  getResource(level: Level, id: string): Promise<ResourceRecord | undefined>;
  /** Resources at `level` with that UID (a StudyInstanceUID can appear under two PatientIDs). */
  findByUid(level: Exclude<Level, 'patient'>, uid: string): Promise<ResourceRecord[]>;
  /** Direct children, in insertion order. */
  listChildren(level: Exclude<Level, 'instance'>, id: string): Promise<ResourceRecord[]>;
  /** Every instance under a resource (the instance itself at instance level), with file info. */
  listInstances(level: Level, id: string): Promise<ResourceRecord[]>;
  query(q: MatchQuery): Promise<QueryPage>;
  /** Deletes a resource, its descendants and ancestors left empty; undefined when unknown. */
  deleteResource(level: Level, id: string): Promise<DeleteResult | undefined>;
  /** Blob keys the index references (for consistency checks: blobs not listed are orphans). */
  hasBlobKey(blobKey: string): Promise<boolean>;
  statistics(): Promise<IndexStatistics>;
  changes(opts?: { since?: number; limit?: number }): Promise<ChangesPage>;
  /** Appends a change that is not a side effect of a store or delete (StableStudy...); returns its seq. */
  appendChange(type: ChangeType, level: Level, resourceId: string): Promise<number>;
  /**
   * Whether a resource holds data in `scope`: an instance by its own project, a patient, study or
   * series when at least one instance under it is in scope. False when unknown.
   */
  isVisible(level: Level, id: string, scope: ProjectScope): Promise<boolean>;
  /** Labels of a resource (Orthanc labels), sorted; [] when none or unknown. */
  labels(level: Level, id: string): Promise<string[]>;
  /** Adds (true) or removes (false) a label; false when the resource is unknown. */
  setLabel(level: Level, id: string, label: string, present: boolean): Promise<boolean>;
  /** Every label in use (on resources in `scope` when given), sorted. */
  allLabels(scope?: ProjectScope): Promise<string[]>;
  close(): Promise<void>;
}
