import { afterEach, describe, expect, it } from 'vitest';
import { ohifLink } from '../src/pages/study.ts';

describe('study page: "Open in OHIF"', () => {
  afterEach(() => document.head.querySelectorAll('meta').forEach((m) => m.remove()));

  it('appears only when the server serves OHIF, and opens the study by its UID under /ohif/', () => {
    expect(ohifLink('1.2.3')).toBeNull();
    const meta = document.createElement('meta');
    meta.name = 'dicomgate-ohif';
    meta.content = '/ohif/';
    document.head.append(meta);
    const a = ohifLink('1.2.840.99.7')!;
    expect(a.getAttribute('href')).toBe('/ohif/viewer?StudyInstanceUIDs=1.2.840.99.7');
    expect(a.textContent).toBe('Open in OHIF');
    expect(ohifLink(undefined)).toBeNull();
  });
});
