// The converter's public surface (CLI `convert`, later HTTP POST /tools/convert).
export { convert, describe } from './convert.ts';
export type { ConvertOptions, ConvertResult, ConvertedInstance, ConvertFailure, InputDone } from './convert.ts';
export { collectInputs, streamInput, isNiftiName } from './inputs.ts';
export type { ConvertInput, InputSet } from './inputs.ts';
export { attributesFrom, mergeAttributes, readLike, readSidecar } from './metadata.ts';
export type { Attribute, AttributeValues } from './metadata.ts';
export { isValidUid, newUid } from './uid.ts';
