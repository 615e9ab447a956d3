// Moved to src/export/dicomdir.ts (shared with folder exports that write a DICOMDIR); kept so the
// media ZIP and its tests import it where they always did.
export * from '../../export/dicomdir.ts';
