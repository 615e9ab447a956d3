// What a notification says. Both kinds leave the identifiable side's data out: Orthanc ids,
// pseudonymised UIDs (only when every pipeline that received the study de-identifies), project and
// pipeline names, counts and states. No patient name, id, dates or descriptions, no error text
// from a peer (it may echo patient data): error codes only.

export type NotifyEvent = 'study-done' | 'job-failed';
export const NOTIFY_EVENTS: readonly NotifyEvent[] = ['study-done', 'job-failed'];

export interface NotifiedStudy {
  /** Orthanc study id (sha1-based, not patient data). */
  readonly id: string;
  /** Present only when the archive holds the study de-identified (every receiving pipeline has a deid stage). */
  readonly studyInstanceUid?: string;
  readonly series?: number;
  readonly instances?: number;
}

export interface RouteSummary {
  readonly destination: string;
  readonly jobId: string;
  readonly state: string;
  readonly items: number;
}

export interface StudyDoneMessage {
  readonly event: 'study-done';
  /** ISO 8601 time the notification was made. */
  readonly at: string;
  /** Success: every route of the study's event delivered; Stored: the pipeline has no route for it. */
  readonly status: 'Success' | 'Stored';
  readonly study: NotifiedStudy;
  readonly pipelines: readonly string[];
  readonly projects: readonly string[];
  /** stable-study, manual, ... */
  readonly trigger: string;
  readonly routes: readonly RouteSummary[];
}

export interface JobFailedMessage {
  readonly event: 'job-failed';
  readonly at: string;
  readonly status: 'Failure';
  readonly job: {
    readonly id: string;
    readonly type: string;
    readonly destination?: string;
    readonly trigger?: string;
    readonly attempts: number;
    readonly items?: number;
    /** AppError code (docs/errors.md); never the detail text. */
    readonly code: string;
  };
  readonly study?: NotifiedStudy;
  readonly pipelines: readonly string[];
  readonly projects: readonly string[];
}

export type NotifyMessage = StudyDoneMessage | JobFailedMessage;

/** One line for an e-mail subject. */
export function subjectOf(m: NotifyMessage): string {
  const project = m.projects.length > 0 ? ` (${m.projects.join(', ')})` : '';
  if (m.event === 'study-done') return `dicomgate: study ${m.study.id} done${project}`;
  return `dicomgate: job ${m.job.id} failed${m.job.destination ? ` for ${m.job.destination}` : ''} [${m.job.code}]${project}`;
}

/** Plain-text body: a short summary, then the same JSON a webhook receives. */
export function textOf(m: NotifyMessage): string {
  const lines: string[] = [];
  if (m.event === 'study-done') {
    lines.push(`Study ${m.study.id} finished its pipeline (${m.trigger}): ${m.status}.`);
    if (m.study.instances !== undefined) lines.push(`Instances: ${m.study.instances}, series: ${m.study.series ?? '?'}.`);
    for (const r of m.routes) lines.push(`- ${r.destination}: ${r.state}, ${r.items} item(s), job ${r.jobId}`);
  } else {
    lines.push(`Job ${m.job.id} (${m.job.type}) failed after ${m.job.attempts} attempt(s) with ${m.job.code}.`);
    if (m.job.destination) lines.push(`Destination ${m.job.destination}: the items are in its dead-letter list (POST /jobs/${m.job.id}/resubmit).`);
  }
  lines.push('', JSON.stringify(m, null, 2));
  return lines.join('\n');
}
