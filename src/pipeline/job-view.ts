// A job as Orthanc's REST API shows it (GET /jobs/{id}), for the HTTP edge and the CLI.
// Payload and result are shown as stored: job payloads hold ids and UIDs, never patient data.
import { ERRORS, type ErrorCode } from '../core/errors.ts';
import type { JobRecord } from './job.ts';

export interface OrthancJobView {
  ID: string;
  Type: string;
  State: JobRecord['state'];
  Progress: number;
  Priority: number;
  CreationTime: string;
  CompletionTime?: string;
  Timestamp: string;
  ErrorCode: number;
  ErrorDescription: string;
  ErrorDetails?: string;
  Content: Record<string, unknown>;
}

/** Orthanc's timestamp form: 20240131T101500.123456 (UTC). */
function orthancTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
}

export function toOrthancJob(j: JobRecord): OrthancJobView {
  const code = j.error?.code;
  return {
    ID: j.id,
    Type: j.type,
    State: j.state,
    Progress: Math.round(j.progress * 100),
    Priority: j.priority,
    CreationTime: orthancTime(j.createdAt),
    ...(j.completedAt !== null ? { CompletionTime: orthancTime(j.completedAt) } : {}),
    Timestamp: orthancTime(j.updatedAt),
    // Orthanc reports 0 (Success) when there is no error; we expose our catalog code as text.
    ErrorCode: code ? 1 : 0,
    ErrorDescription: code ? (ERRORS[code as ErrorCode]?.text ?? code) : 'Success',
    ...(code ? { ErrorDetails: j.error?.detail ? `${code}: ${j.error.detail}` : code } : {}),
    Content: {
      ...(typeof j.payload === 'object' && j.payload !== null ? (j.payload as Record<string, unknown>) : j.payload === undefined ? {} : { Payload: j.payload }),
      Attempts: j.attempts,
      MaxAttempts: j.maxAttempts,
      Step: j.step,
      ...(j.studyKey !== null ? { StudyKey: j.studyKey } : {}),
      ...(j.result !== undefined ? { Result: j.result } : {}),
    },
  };
}
