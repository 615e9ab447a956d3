// Which UI values the engine must never replace: UIDs that name a class, a syntax or a coding scheme
// rather than an instance. Replacing them would make objects unreadable (transfer syntax), unknown
// (SOP class) or break codes; they identify no patient.

/** Every UID under the DICOM root names something defined by the standard (PS3.6 Annex A). */
const DICOM_ROOT = '1.2.840.10008.';

/** Attributes whose UI value is a class or scheme, whatever its root (private SOP classes included). */
export const CLASS_UID_TAGS: ReadonlySet<number> = new Set([
  0x00000002, // Affected SOP Class UID
  0x00000003, // Requested SOP Class UID
  0x00020002, // Media Storage SOP Class UID
  0x00020010, // Transfer Syntax UID
  0x00020012, // Implementation Class UID
  0x00020100, // Private Information Creator UID
  0x00041510, // Referenced SOP Class UID in File
  0x00041512, // Referenced Transfer Syntax UID in File
  0x0004151a, // Referenced Related General SOP Class UID in File
  0x00080016, // SOP Class UID
  0x0008001a, // Related General SOP Class UID
  0x0008001b, // Original Specialized SOP Class UID
  0x00080062, // SOP Classes in Study
  0x0008010c, // Coding Scheme UID
  0x0008010d, // Context Group Extension Creator UID
  0x00080118, // Mapping Resource UID
  0x00081150, // Referenced SOP Class UID
  0x0008115a, // SOP Classes Supported
]);

export function isWellKnownUid(uid: string): boolean {
  return uid.startsWith(DICOM_ROOT);
}
