// Types for the untyped `dicom-character-set` package (https://github.com/radialogica/dicom-character-set).
declare module 'dicom-character-set' {
  /** Decodes DICOM text bytes given the Specific Character Set value (backslash-separated terms). */
  export function convertBytes(specificCharacterSet: string | undefined, bytes: Uint8Array, options?: { vr?: string }): string;
}
