// The archive search form as an Orthanc /tools/find query (pure, unit-tested in test/web).
export interface Criteria {
  name: string;
  id: string;
  from: string;
  to: string;
  modality: string;
  description: string;
  accession: string;
}

/** Free text becomes a contains-match unless the user typed wildcards (PS3.4 C.2.2.2.4). */
export function wildcard(v: string): string {
  const t = v.trim();
  return t === '' || /[*?]/.test(t) ? t : `*${t}*`;
}

export function findQuery(c: Criteria): Record<string, string> {
  const q: Record<string, string> = {};
  if (c.name.trim()) q.PatientName = wildcard(c.name);
  if (c.id.trim()) q.PatientID = wildcard(c.id);
  if (c.description.trim()) q.StudyDescription = wildcard(c.description);
  if (c.accession.trim()) q.AccessionNumber = wildcard(c.accession);
  if (c.modality) q.ModalitiesInStudy = c.modality;
  const da = (d: string) => d.replace(/-/g, '');
  if (c.from || c.to) q.StudyDate = c.from === c.to ? da(c.from) : `${da(c.from)}-${da(c.to)}`;
  return q;
}
