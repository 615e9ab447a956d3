// System status: GET /system (version, DICOM AE and ports) and GET /statistics (counts, storage).
import { getJson } from '../api.ts';
import { errorBox, fmtBytes, h } from '../dom.ts';
import type { Page } from '../router.ts';

export const statusPage: Page = async (main) => {
  main.append(h('h1', {}, 'System'));
  try {
    const [sys, st] = await Promise.all([
      getJson<Record<string, string | number | boolean | null>>('/system'),
      getJson<Record<string, string | number>>('/statistics'),
    ]);
    const rows: [string, string][] = [
      ['Version', String(sys.DicomgateVersion ?? sys.Version)],
      ['DICOM AE title', String(sys.DicomAet ?? '')],
      ['DICOM port', String(sys.DicomPort ?? 'off')],
      ['Patients', String(st.CountPatients)],
      ['Studies', String(st.CountStudies)],
      ['Series', String(st.CountSeries)],
      ['Instances', String(st.CountInstances)],
      ['Storage used', fmtBytes(Number(st.TotalDiskSize))],
    ];
    main.append(h('dl', { class: 'facts card', 'data-testid': 'system' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  } catch (e) {
    main.append(errorBox(e instanceof Error ? e.message : String(e)));
  }
};
