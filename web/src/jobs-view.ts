// What the Jobs page shows and offers (pure, component-tested in web/test): jobs from GET /jobs?expand,
// destinations from GET /routes. Route jobs are typed `route:<destination>` (src/pipeline/route-queue.ts);
// a route job in Failure is a dead letter, listed by GET /routes/{name}/dead-letters and sent again
// from its first item by POST /routes/{name}/dead-letters/{id}/retry.
export interface Job {
  ID: string;
  Type: string;
  State: string;
  Progress: number;
  CreationTime: string | null;
  CompletionTime?: string | null;
  Timestamp?: string;
  ErrorDescription: string;
  ErrorDetails?: string;
  Content?: Record<string, unknown>;
}

export type JobAction = 'cancel' | 'pause' | 'resume' | 'resubmit';

export const ACTION_LABEL: Record<JobAction, string> = { cancel: 'Cancel', pause: 'Pause', resume: 'Resume', resubmit: 'Retry' };

/**
 * The actions the server accepts in a job's state (SqlJobRepo's transitions). Only the persistent
 * jobs (numeric ids) take actions; the in-memory anonymize jobs run to the end.
 */
export function actionsFor(j: Job): JobAction[] {
  if (!/^\d+$/.test(j.ID)) return [];
  switch (j.State) {
    case 'Pending':
    case 'Retry':
      return ['pause', 'cancel'];
    case 'Running':
      return ['pause', 'cancel'];
    case 'Paused':
      return ['resume', 'cancel'];
    case 'Failure':
      return ['resubmit'];
    default:
      return [];
  }
}

export function destinationOf(type: string): string | undefined {
  return type.startsWith('route:') ? type.slice('route:'.length) : undefined;
}

/** A destination as GET /routes reports it (src/http/pipeline/route-status-routes.ts). */
export interface RouteStatus {
  name: string;
  kind: string;
  target: string;
  source: string;
  waiting: number;
  sending: number;
  deadLetters: number;
  countsCapped: boolean;
  lastError: { code: string; detail: string | null; at: string; jobId: string } | null;
}

/** POST /routes/{name}/test. */
export interface RouteTestResult {
  name: string;
  ok: boolean;
  code: string | null;
  detail: string;
  ms: number;
}

export const KIND_LABEL: Record<string, string> = { dicom: 'DICOM peer', dicomweb: 'DICOMweb server', folder: 'Folder', project: 'Project' };

/** A count from GET /routes; past the server's counting limit it is a lower bound. */
export function count(r: RouteStatus, n: number): string {
  return r.countsCapped && n > 0 ? `${n}+` : String(n);
}

export function lastProblem(r: RouteStatus): string {
  return r.lastError ? [r.lastError.code, r.lastError.detail].filter((x) => x).join(': ') : '';
}

/** The test's verdict as a sentence. */
export function testVerdict(t: RouteTestResult): string {
  return t.ok ? `${t.name} works: ${t.detail} (${t.ms} ms).` : `${t.name} does not work: ${t.detail}`;
}

export function problem(j: Job): string {
  return [j.ErrorDescription, j.ErrorDetails].filter((x) => x && x !== 'Success').join(' — ');
}

/** Orthanc's 20240131T101500.123 → 2024-01-31 10:15:00 (UTC, as the server keeps it). */
export function when(t: string | null | undefined): string {
  return t === null || t === undefined ? '' : t.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}).*$/, '$1-$2-$3 $4:$5:$6');
}

/** How many objects a route job carries (payload `items`, src/pipeline/route-queue.ts). */
export function itemCount(j: Job): number | undefined {
  const items = j.Content?.items ?? j.Content?.Items;
  return Array.isArray(items) ? items.length : undefined;
}

export function attempts(j: Job): string {
  const a = j.Content?.Attempts;
  const m = j.Content?.MaxAttempts;
  return typeof a === 'number' && typeof m === 'number' ? `${a} / ${m}` : '';
}
