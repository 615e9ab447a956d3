import { describe, expect, it } from 'vitest';
import { archivePage } from '../src/pages/archive.ts';
import { findQuery, wildcard } from '../src/search-query.ts';
import { cell, fakeServer, main, until } from './fake-server.ts';

const study = (id: string, name: string, date: string, mods: string) => ({
  ID: id,
  MainDicomTags: { StudyDate: date, StudyDescription: `desc ${id}`, AccessionNumber: `A${id}` },
  PatientMainDicomTags: { PatientName: name, PatientID: `P${id}` },
  Series: ['s1', 's2'],
  RequestedTags: { ModalitiesInStudy: mods },
});

describe('archive search form → /tools/find query', () => {
  it('turns free text into contains-matches, keeps typed wildcards, and a date range into DA-DA', () => {
    expect(wildcard(' doe ')).toBe('*doe*');
    expect(wildcard('DOE^J*')).toBe('DOE^J*');
    expect(findQuery({ name: 'doe', id: '', from: '2024-01-02', to: '2024-03-04', modality: 'CT', description: '', accession: '' })).toEqual({
      PatientName: '*doe*',
      ModalitiesInStudy: 'CT',
      StudyDate: '20240102-20240304',
    });
    expect(findQuery({ name: '', id: '', from: '2024-01-02', to: '2024-01-02', modality: '', description: '', accession: '' })).toEqual({ StudyDate: '20240102' });
    expect(findQuery({ name: '', id: '', from: '', to: '2024-01-02', modality: '', description: '', accession: '' })).toEqual({ StudyDate: '-20240102' });
  });

  it('sends what the form holds in the POST body (never the URL) and draws the answer', async () => {
    const sent = fakeServer({ 'POST /tools/find': { json: [study('b', 'Doe^Jane', '20240105', 'CT\\RTSTRUCT'), study('a', 'Roe^Rick', '20230101', 'MR')] } });
    const m = main();
    await archivePage(m, {});
    await until(() => m.querySelector('[data-testid=studies]'), 'first results');
    (m.querySelector('#q-name') as HTMLInputElement).value = 'jane';
    (m.querySelector('#q-accession') as HTMLInputElement).value = 'A1?';
    (m.querySelector('#q-modality') as HTMLSelectElement).value = 'RTSTRUCT';
    m.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await until(() => sent.length === 2, 'second search');
    expect(sent[1].path).toBe('/tools/find');
    expect(sent[1].body).toMatchObject({ Level: 'Study', Query: { PatientName: '*jane*', AccessionNumber: 'A1?', ModalitiesInStudy: 'RTSTRUCT' }, Expand: true, Since: 0, Limit: 51 });
    const table = await until(() => m.querySelector('[data-testid=studies]'), 'table');
    // Newest first by default; names shown as "Family, Given", modalities comma-separated.
    expect(cell(table, 0, 0)).toBe('Doe, Jane');
    expect(cell(table, 0, 2)).toBe('2024-01-05');
    expect(cell(table, 0, 4)).toBe('CT, RTSTRUCT');
    expect(table.querySelector('a')!.getAttribute('href')).toBe('/ui/studies/b');
    expect(m.querySelector('[data-testid=result-count]')!.textContent).toMatch(/^Studies 1–2/);
  });

  it('sorts on the server: a column header re-queries with OrderBy from the first page, and pages keep that order', async () => {
    const sent = fakeServer({
      'POST /tools/find': (req) => {
        const body = req.body as { OrderBy?: { Key: string; Direction: string }[]; Since: number };
        // The fake answers in the order asked for, like the server: the page shows it as is.
        const rows = [study('b', 'Doe^Jane', '20240105', 'CT'), study('a', 'Abel^Rick', '20230101', 'MR')];
        if (body.OrderBy?.[0]?.Key === 'PatientName' && body.OrderBy[0].Direction === 'ASC') rows.reverse();
        return { json: body.Since > 0 ? rows.slice(0, 1) : [...rows, ...Array.from({ length: 50 }, (_, i) => study(`x${i}`, 'Zed^Z', '20000101', 'OT'))] };
      },
    });
    const m = main();
    await archivePage(m, {});
    const table = await until(() => m.querySelector('[data-testid=studies]'), 'table');
    // The default order (newest first) is asked of the server, not applied to the page.
    expect((sent[0].body as { OrderBy: unknown }).OrderBy).toEqual([
      { Type: 'DicomTag', Key: 'StudyDate', Direction: 'DESC' },
      { Type: 'DicomTag', Key: 'StudyTime', Direction: 'DESC' },
    ]);
    (m.querySelector('.pager button:last-child') as HTMLButtonElement).click();
    await until(() => sent.length === 2, 'next page');
    expect(sent[1].body).toMatchObject({ Since: 50, OrderBy: [{ Key: 'StudyDate', Direction: 'DESC' }, { Key: 'StudyTime' }] });
    await until(() => m.querySelector('[data-testid=studies]'), 'second page');
    const byName = m.querySelector('th button[data-sort=name]') as HTMLButtonElement;
    expect(table.querySelectorAll('th button[data-sort]').length).toBe(5);
    byName.click();
    await until(() => sent.length === 3, 'sorted search');
    expect(sent[2].body).toMatchObject({ Since: 0, Limit: 51, OrderBy: [{ Type: 'DicomTag', Key: 'PatientName', Direction: 'ASC' }] });
    const sorted = await until(() => m.querySelector('[data-testid=studies]'), 'sorted table');
    expect(cell(sorted, 0, 0)).toBe('Abel, Rick');
    expect(sorted.querySelector('th')!.getAttribute('aria-sort')).toBe('ascending');
    expect(document.activeElement?.getAttribute('data-sort')).toBe('name');
    (m.querySelector('th button[data-sort=name]') as HTMLButtonElement).click();
    await until(() => sent.length === 4, 'reversed');
    expect(sent[3].body).toMatchObject({ Since: 0, OrderBy: [{ Key: 'PatientName', Direction: 'DESC' }] });
    const reversed = await until(() => m.querySelector('[data-testid=studies]'), 'reversed table');
    expect(cell(reversed, 0, 0), 'the page is shown in the server order, not re-sorted').toBe('Doe, Jane');

    fakeServer({ 'POST /tools/find': { json: [] } });
    const m2 = main();
    await archivePage(m2, {});
    await until(() => m2.querySelector('[data-testid=result-count]')?.textContent?.startsWith('No studies match.'), 'empty text');
  });

  it('shows a refused search in words', async () => {
    fakeServer({ 'POST /tools/find': { status: 403, json: { error: 'AUTH_FORBIDDEN', message: 'role researcher needed' } } });
    const m = main();
    await archivePage(m, {});
    const alert = await until(() => m.querySelector('[role=alert]'), 'alert');
    expect(alert.textContent).toBe('Your role does not allow this action.');
  });
});
