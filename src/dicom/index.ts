// The DICOM core's public surface (docs/architecture.md, "The DICOM core contract").
export type { Tag } from './tag.ts';
export { tag, formatTag, formatTagHex, parseTag, isPrivateTag, isPrivateCreator, privateCreatorTag, isGroupLength, T, PIXEL_DATA } from './tag.ts';
export type { VR } from './vr.ts';
export { isVR, ALL_VRS } from './vr.ts';
export type { DictEntry } from './dictionary.ts';
export { lookup, tagForKeyword, keywordOf } from './dictionary.ts';
export type { Element, DatasetOptions } from './dataset.ts';
export { Dataset } from './dataset.ts';
export type { DicomFile } from './part10.ts';
export { readPart10, readPart10Header, writePart10, readDataset, writeDataset, newDicomFile, readPart10HeaderSync, looksLikeDicom, synthesizeMeta, detectEncoding } from './part10.ts';
export type { TransferSyntax } from './uids.ts';
export { TS, SOP, transferSyntax, uidName, STORAGE_SOP_CLASSES } from './uids.ts';
export type { JsonDataset, JsonAttribute, JsonPersonName, ToJsonOptions, FromJsonOptions } from './json.ts';
export { toDicomJson, fromDicomJson } from './json.ts';
export type { DumpOptions } from './dump.ts';
export { dump } from './dump.ts';
