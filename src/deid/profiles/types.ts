// Shapes of the PS3.15 Annex E Table E.1-1 data (generated into table-e1-1.ts) and of the
// profile options (the table's option columns, PS3.15 E.3).

/** Basic profile action codes of Table E.1-1 (PS3.15 E.1.1 "Notes on the actions"). */
export type BasicAction = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U' | 'Z/D' | 'X/Z' | 'X/D' | 'X/Z/D' | 'X/Z/U*';

/** Action an option column gives: K keep, C clean (replace identifying content by similar but neutral values). */
export type OptionAction = 'K' | 'C';

/** The option columns of Table E.1-1, named after the PS3.15 E.3 option they represent. */
export type TableOption =
  | 'retainSafePrivate' // E.3.10 Retain Safe Private Option
  | 'retainUIDs' // E.3.9 Retain UIDs Option
  | 'retainDeviceIdentity' // E.3.8 Retain Device Identity Option
  | 'retainInstitutionIdentity' // E.3.12 Retain Institution Identity Option
  | 'retainPatientCharacteristics' // E.3.7 Retain Patient Characteristics Option
  | 'retainLongitudinalFullDates' // E.3.6 Retain Longitudinal Temporal Information Full Dates Option
  | 'retainLongitudinalModifiedDates' // E.3.6 ... Modified Dates Option
  | 'cleanDescriptors' // E.3.5 Clean Descriptors Option
  | 'cleanStructuredContent' // E.3.4 Clean Structured Content Option
  | 'cleanGraphics'; // E.3.3 Clean Graphics Option

export interface TableRow {
  /** Tag value with wildcard nibbles set to 0. */
  readonly tag: number;
  /** Bits of `tag` that must match: 0xFFFFFFFF for an exact tag, 0xFF00FFFF for (60xx,4000). */
  readonly mask: number;
  readonly name: string;
  /** "In Std. Comp. IOD" column: the attribute belongs to a composite IOD of the standard. */
  readonly inStdIOD: boolean;
  readonly basic: BasicAction;
  readonly options: Readonly<Partial<Record<TableOption, OptionAction>>>;
}
