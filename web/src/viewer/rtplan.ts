// What a reviewer wants from an RT Plan at a glance (PS3.3 C.8.8.9-C.8.8.14): label, fractions,
// prescription, and per beam its name, type, radiation, machine, energy, gantry angle, meterset.
import { items, num, str, TAG, type JsonDataset } from './dicom-json.ts';

export interface BeamSummary {
  number: number | undefined;
  name: string | undefined;
  type: string | undefined;
  radiation: string | undefined;
  machine: string | undefined;
  energy: number | undefined;
  gantryAngle: number | undefined;
  meterset: number | undefined;
}

export interface PlanSummary {
  label: string | undefined;
  name: string | undefined;
  geometry: string | undefined;
  fractions: number | undefined;
  /** Gy, from the first target dose reference that gives one. */
  prescriptionGy: number | undefined;
  beams: BeamSummary[];
}

export function summarizePlan(ds: JsonDataset): PlanSummary {
  const fg = items(ds, TAG.FractionGroupSequence)[0];
  const meterset = new Map<number, number>();
  for (const rb of fg ? items(fg, TAG.ReferencedBeamSequence) : []) {
    const n = num(rb, TAG.ReferencedBeamNumber);
    const m = num(rb, TAG.BeamMeterset);
    if (n !== undefined && m !== undefined) meterset.set(n, m);
  }
  const prescription = items(ds, TAG.DoseReferenceSequence)
    .map((d) => num(d, TAG.TargetPrescriptionDose) ?? num(d, TAG.DeliveryMaximumDose))
    .find((d) => d !== undefined);
  return {
    label: str(ds, TAG.RTPlanLabel),
    name: str(ds, TAG.RTPlanName),
    geometry: str(ds, TAG.RTPlanGeometry),
    fractions: fg ? num(fg, TAG.NumberOfFractionsPlanned) : undefined,
    prescriptionGy: prescription,
    beams: items(ds, TAG.BeamSequence).map((b) => {
      const cp = items(b, TAG.ControlPointSequence)[0];
      const n = num(b, TAG.BeamNumber);
      return {
        number: n,
        name: str(b, TAG.BeamName),
        type: str(b, TAG.BeamType),
        radiation: str(b, TAG.RadiationType),
        machine: str(b, TAG.TreatmentMachineName),
        energy: cp ? num(cp, TAG.NominalBeamEnergy) : undefined,
        gantryAngle: cp ? num(cp, TAG.GantryAngle) : undefined,
        meterset: n === undefined ? undefined : meterset.get(n),
      };
    }),
  };
}
