// DIMSE status codes (PS3.7 Annex C, and the service-specific ones of PS3.4 Annexes B and C).

export const STATUS = {
  Success: 0x0000,
  Cancel: 0xfe00,
  Pending: 0xff00,
  PendingWarning: 0xff01, // C-FIND: optional keys not supported
  // Failures shared by services (PS3.7 C.5)
  SopClassNotSupported: 0x0122,
  ClassInstanceConflict: 0x0119,
  DuplicateSopInstance: 0x0111,
  DuplicateInvocation: 0x0210,
  InvalidArgumentValue: 0x0115,
  MistypedArgument: 0x0212,
  ProcessingFailure: 0x0110,
  UnrecognizedOperation: 0x0211,
  NotAuthorized: 0x0124,
  // C-STORE (PS3.4 B.2.3)
  StoreOutOfResources: 0xa700,
  StoreDataSetDoesNotMatchSopClass: 0xa900,
  StoreCannotUnderstand: 0xc000,
  StoreCoercionOfDataElements: 0xb000,
  StoreElementsDiscarded: 0xb006,
  StoreDataSetDoesNotMatchSopClassWarning: 0xb007,
  // Q/R (PS3.4 C.4)
  FindOutOfResources: 0xa700,
  IdentifierDoesNotMatchSopClass: 0xa900,
  UnableToProcess: 0xc000,
  MoveOutOfResourcesNumberOfMatches: 0xa701,
  MoveOutOfResourcesSubOperations: 0xa702,
  MoveDestinationUnknown: 0xa801,
  SubOperationsCompleteWithFailures: 0xb000,
} as const;

export type StatusCategory = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

/** PS3.7 C.1: classifies a status value. */
export function statusCategory(status: number): StatusCategory {
  if (status === 0x0000) return 'success';
  if (status === 0xff00 || status === 0xff01) return 'pending';
  if (status === 0xfe00) return 'cancel';
  if (status === 0x0001 || (status & 0xf000) === 0xb000 || status === 0x0107 || status === 0x0116) return 'warning';
  return 'failure';
}

export function formatStatus(status: number): string {
  return `0x${status.toString(16).padStart(4, '0').toUpperCase()}`;
}
