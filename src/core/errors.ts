// One catalog of error codes (fastify's lib/errors.js, Orthanc's ErrorCodes.json).
// Edges translate: http/ maps `http`, dimse-server/ answers `dimse`. Every code is documented
// in docs/errors.md (a test checks it). Messages never carry patient data: UIDs and ids only.

export interface ErrorSpec {
  /** HTTP status an edge answers with. */
  readonly http: number;
  /** DIMSE status a service answers with (PS3.7 Annex C). */
  readonly dimse: number;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;
  readonly text: string;
}

export const ERRORS = {
  DICOM_PARSE: { http: 400, dimse: 0xc000, retryable: false, text: 'Malformed DICOM data' },
  DICOM_UNSUPPORTED_TS: { http: 415, dimse: 0xc000, retryable: false, text: 'Unsupported transfer syntax' },
  DICOM_ENCODE: { http: 500, dimse: 0xc000, retryable: false, text: 'Cannot encode DICOM value' },
  DICOM_MISSING_UID: { http: 400, dimse: 0xc000, retryable: false, text: 'Required UID missing from dataset' },
  DICOM_TAG_UNKNOWN: { http: 400, dimse: 0xc000, retryable: false, text: 'Unknown DICOM tag or keyword' },
  STORE_UNAVAILABLE: { http: 503, dimse: 0xa700, retryable: true, text: 'Object store unavailable' },
  STORE_NOT_FOUND: { http: 404, dimse: 0xa801, retryable: false, text: 'Object not found in store' },
  INDEX_UNAVAILABLE: { http: 503, dimse: 0xa700, retryable: true, text: 'Index database unavailable' },
  INDEX_DUPLICATE: { http: 409, dimse: 0xa900, retryable: false, text: 'Duplicate SOP Instance UID rejected' },
  INDEX_NOT_FOUND: { http: 404, dimse: 0xc000, retryable: false, text: 'Resource not found' },
  QUERY_INVALID: { http: 400, dimse: 0xa900, retryable: false, text: 'Invalid query' },
  CONFIG_INVALID: { http: 500, dimse: 0xc000, retryable: false, text: 'Invalid configuration' },
  CONFIG_SECRET: { http: 500, dimse: 0xc000, retryable: false, text: 'Secret reference cannot be resolved' },
  IMPORT_UNREADABLE: { http: 400, dimse: 0xc000, retryable: false, text: 'Input cannot be read' },
  UPLOAD_TOO_LARGE: { http: 413, dimse: 0xa700, retryable: false, text: 'Upload larger than allowed' },
  CLI_USAGE: { http: 400, dimse: 0xc000, retryable: false, text: 'Invalid command line' },
  DIMSE_ABORTED: { http: 502, dimse: 0xa700, retryable: true, text: 'DICOM association aborted' },
  DIMSE_ASSOCIATION_REJECTED: { http: 502, dimse: 0xa700, retryable: true, text: 'DICOM association rejected by peer' },
  DIMSE_COMMAND_INVALID: { http: 502, dimse: 0xc000, retryable: false, text: 'Malformed DIMSE command set' },
  DIMSE_CONNECT: { http: 502, dimse: 0xa702, retryable: true, text: 'Cannot connect to DICOM peer' },
  DIMSE_NO_CONTEXT: { http: 502, dimse: 0x0122, retryable: false, text: 'No accepted presentation context for SOP class' },
  DIMSE_PDU_INVALID: { http: 502, dimse: 0xc000, retryable: false, text: 'Malformed or unexpected PDU' },
  DIMSE_PEER_FAILURE: { http: 502, dimse: 0xc000, retryable: false, text: 'DICOM peer answered with a failure status' },
  DIMSE_STATE: { http: 500, dimse: 0xc000, retryable: false, text: 'Operation not allowed in the association state' },
  DIMSE_TIMEOUT: { http: 504, dimse: 0xa700, retryable: true, text: 'DICOM peer timed out' },
  DEID_PROJECT_UNKNOWN: { http: 400, dimse: 0xc000, retryable: false, text: 'Unknown de-identification project' },
  DEID_REJECTED: { http: 422, dimse: 0xc000, retryable: false, text: 'Object cannot be de-identified' },
  DEID_PROJECT_INVALID: { http: 500, dimse: 0xc000, retryable: false, text: 'Invalid de-identification project settings' },
  KEYS_UNAVAILABLE: { http: 503, dimse: 0xa700, retryable: true, text: 'Pseudonym key database unavailable' },
  KEYS_IMPORT_INVALID: { http: 400, dimse: 0xc000, retryable: false, text: 'Invalid pseudonym mapping file' },
  AUTH_REQUIRED: { http: 401, dimse: 0xc000, retryable: false, text: 'Authentication required' },
  AUTH_FORBIDDEN: { http: 403, dimse: 0xc000, retryable: false, text: 'Not allowed for this user' },
  AUTH_CSRF: { http: 403, dimse: 0xc000, retryable: false, text: 'Missing or wrong CSRF token' },
  AUTH_RATE_LIMITED: { http: 429, dimse: 0xc000, retryable: true, text: 'Too many failed logins; try again later' },
  AUTH_USER_EXISTS: { http: 409, dimse: 0xc000, retryable: false, text: 'User already exists' },
  AUTH_USER_UNKNOWN: { http: 404, dimse: 0xc000, retryable: false, text: 'No such user' },
  AUTH_INVALID: { http: 400, dimse: 0xc000, retryable: false, text: 'Invalid user, role, password or token settings' },
  AUTH_NOT_READY: { http: 500, dimse: 0xc000, retryable: false, text: 'Authentication is on but no user exists' },
  AUTH_STORE_UNAVAILABLE: { http: 503, dimse: 0xa700, retryable: true, text: 'User database unavailable' },
  CONVERT_INPUT_INVALID: { http: 400, dimse: 0xc000, retryable: false, text: 'Input image or volume is corrupt or truncated' },
  CONVERT_UNSUPPORTED: { http: 415, dimse: 0xc000, retryable: false, text: 'Input image or volume uses an unsupported feature' },
  CONVERT_TOO_LARGE: { http: 413, dimse: 0xc000, retryable: false, text: 'Input image dimensions are out of range' },
  CONVERT_METADATA_INVALID: { http: 400, dimse: 0xc000, retryable: false, text: 'Invalid conversion metadata (sidecar, reference DICOM or option)' },
  JOB_NOT_FOUND: { http: 404, dimse: 0xc000, retryable: false, text: 'No such job' },
  JOB_STATE: { http: 409, dimse: 0xc000, retryable: false, text: 'Job action not allowed in its current state' },
  JOB_CANCELED: { http: 409, dimse: 0xc000, retryable: false, text: 'Job canceled by an operator' },
  JOB_STEP_FAILED: { http: 500, dimse: 0xc000, retryable: true, text: 'Job step threw an unexpected error' },
  JOB_DB_UNAVAILABLE: { http: 503, dimse: 0xa700, retryable: true, text: 'Job database unavailable' },
  EXPORT_TEMPLATE_INVALID: { http: 400, dimse: 0xc000, retryable: false, text: 'Invalid export path template' },
  EXPORT_WRITE_FAILED: { http: 503, dimse: 0xa700, retryable: true, text: 'Cannot write exported file' },
  CTP_SCRIPT_INVALID: { http: 400, dimse: 0xc000, retryable: false, text: 'CTP anonymizer script cannot be imported' },
  ROUTE_DESTINATION_UNKNOWN: { http: 404, dimse: 0xc000, retryable: false, text: 'No such route destination' },
  ROUTE_PEER_BUSY: { http: 503, dimse: 0xa700, retryable: true, text: 'Destination is out of resources; will retry' },
  ROUTE_REJECTED: { http: 502, dimse: 0xc000, retryable: false, text: 'Destination refused the object' },
  NOTIFY_UNAVAILABLE: { http: 502, dimse: 0xc000, retryable: true, text: 'Notification endpoint unavailable; will retry' },
  NOTIFY_REJECTED: { http: 502, dimse: 0xc000, retryable: false, text: 'Notification endpoint refused the notification' },
  PIPELINE_CONFIG_INVALID: { http: 500, dimse: 0xc000, retryable: false, text: 'Invalid pipeline configuration' },
  PIPELINE_REJECTED: { http: 422, dimse: 0xc000, retryable: false, text: 'Refused by a pipeline filter' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** A failure at a boundary (I/O, peer, bad input). Expected outcomes are values, not errors. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, opts: { detail?: string; cause?: unknown } = {}) {
    super(opts.detail ? `${ERRORS[code].text}: ${opts.detail}` : ERRORS[code].text, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.detail = opts.detail;
  }

  get spec(): ErrorSpec {
    return ERRORS[this.code];
  }
}

export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}
