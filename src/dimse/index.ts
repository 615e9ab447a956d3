// The DICOM upper layer library's public surface (see docs/architecture.md: dimse/ imports only
// core and dicom). Edges (dimse-server/, cli/) import from here.
export type { AssociationInfo, AssociateVerdict, CStoreRequest, MoveDestination, OutgoingInstance, QueryRequest, RetrievePlan, ScpHandlers, StatusResult, StoreSink } from './handlers.ts';
export { startScp, type DicomScp, type ScpOptions } from './scp.ts';
export { associate, standardContexts, ScuAssociation, type AssociateOptions, type ProposedContext, type RetrieveOptions, type RetrieveProgress, type RetrieveResult, type StoreResult, type UserIdentity } from './scu.ts';
export { sendFiles, sendInstances, isSuccess, type SendResult, type SendTarget } from './send-instances.ts';
export { part10Instance, parsePart10Meta, type Part10Meta } from './part10-source.ts';
export type { DatasetSource } from './dimse-channel.ts';
export type { AssociationLimits, AssociationTimeouts, CloseReason } from './association.ts';
export { STATUS, statusCategory, formatStatus, type StatusCategory } from './status.ts';
export { SOP, TS, QR_SOP, isStorageSopClass, type QueryModel } from './uids.ts';
