// The interpreter, function by function, on small datasets built with the DICOM core.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/dicom/dataset.ts';
import { T } from '../../src/dicom/tag.ts';
import { MemoryCtpKeys, parseLookupTable } from '../../src/deid/ctp/ctp-keys.ts';
import { applyCtpRecipe, type CtpOutcome } from '../../src/deid/ctp/interpret.ts';
import { importCtpScript } from '../../src/deid/ctp/recipe.ts';
import { isAppError } from '../../src/core/errors.ts';

const ROOT = '1.2.840.113654.2.70.1';

function script(elements: string, extra = ''): string {
  return `<script>
 <p t="DATEINC">-3210</p>
 <p t="UIDROOT">${ROOT}</p>
 <p t="SITEID">1</p>
 <p t="SITENAME">Site A</p>
${elements}
${extra}
</script>`;
}

function sample(): Dataset {
  const ds = new Dataset();
  ds.setString(T.SOPClassUID, 'UI', '1.2.840.10008.5.1.4.1.1.2');
  ds.setString(T.SOPInstanceUID, 'UI', '1.2.3.4.5');
  ds.setString(T.StudyInstanceUID, 'UI', '1.2.3');
  ds.setString(T.SeriesInstanceUID, 'UI', '1.2.3.4');
  ds.setString(T.StudyDate, 'DA', '20240131');
  ds.setString(T.PatientName, 'PN', 'Doe^John^Quincy');
  ds.setString(T.PatientID, 'LO', 'PAT01');
  ds.setString(T.PatientAge, 'AS', '027Y');
  ds.setString(T.AccessionNumber, 'SH', 'ACC123');
  ds.setString(T.StudyDescription, 'LO', 'CT Thorax / Research');
  ds.setString(T.InstitutionName, 'LO', 'General Hospital');
  ds.setString(T.Modality, 'CS', 'CT');
  ds.setString(0x00091010, 'LO', 'private stuff');
  ds.setString(0x00090010, 'LO', 'ACME');
  const ref = new Dataset();
  ref.setString(T.ReferencedSOPClassUID, 'UI', '1.2.840.10008.5.1.4.1.1.2');
  ref.setString(T.ReferencedSOPInstanceUID, 'UI', '1.2.3.4.9');
  ds.setItems(T.ReferencedImageSequence, [ref]);
  return ds;
}

async function run(elements: string, opts: Parameters<typeof applyCtpRecipe>[2] = {}, extra = '', ds = sample()) {
  const { recipe, report } = importCtpScript(script(elements, extra));
  const out = await applyCtpRecipe(ds, recipe, opts);
  return { out, ds, report };
}

const ok = (o: CtpOutcome) => {
  assert.equal(o.kind, 'deidentified', o.kind === 'deidentified' ? '' : o.detail);
  return o as Extract<CtpOutcome, { kind: 'deidentified' }>;
};

describe('CTP interpreter', () => {
  it('@hashuid, @incrementdate, @hash, @hashname, @remove, @empty, @keep', async () => {
    const { out, ds } = await run(`
 <e en="T" t="00080018" n="SOPInstanceUID">@hashuid(@UIDROOT,this)</e>
 <e en="T" t="00080020" n="StudyDate">@incrementdate(this,@DATEINC)</e>
 <e en="T" t="00080050" n="AccessionNumber">@hash(this,16)</e>
 <e en="T" t="00100010" n="PatientName">@hashname(this,6,2)</e>
 <e en="T" t="00100020" n="PatientID">@hash(this,10)</e>
 <e en="T" t="00080080" n="InstitutionName">@remove()</e>
 <e en="T" t="00081030" n="StudyDescription">@empty()</e>
 <e en="T" t="00080060" n="Modality">@keep()</e>`);
    ok(out);
    assert.equal(ds.string(T.SOPInstanceUID), `${ROOT}.59466230175336036203084014467748397925`);
    assert.equal(ds.string(T.StudyDate), '20150418');
    assert.equal(ds.string(T.AccessionNumber), '1041483139756610');
    assert.equal(ds.string(T.PatientName), '767339');
    assert.equal(ds.string(T.PatientID), '3222961099');
    assert.equal(ds.has(T.InstitutionName), false);
    assert.equal(ds.has(T.StudyDescription), true);
    assert.equal(ds.bytes(T.StudyDescription)?.length, 0);
    assert.equal(ds.string(T.Modality), 'CT');
  });

  it('values come from the original object even when another script replaced them (@hashptid of PatientID)', async () => {
    const { ds } = await run(`
 <e en="T" t="00100020" n="PatientID">@hash(this,10)</e>
 <e en="T" t="00120040" n="ClinicalTrialSubjectID">@always()@hashptid(@SITEID,PatientID)</e>`);
    assert.equal(ds.string(T.ClinicalTrialSubjectID), '15235565484881420390861964250971945265'.slice(0, 64));
  });

  it('@always inserts missing elements; @append adds a value; @param', async () => {
    const { ds } = await run(`
 <e en="T" t="00120062" n="PatientIdentityRemoved">@always()YES</e>
 <e en="T" t="00120063" n="DeIdentificationMethod">@always()@append(){CTP Default}</e>
 <e en="T" t="00120031" n="ClinicalTrialSiteName">@always()@param(@SITENAME)</e>
 <e en="T" t="00081030" n="StudyDescription">@append(){extra}</e>
 <e en="T" t="00120030" n="ClinicalTrialSiteID">@param(@SITEID)</e>`);
    assert.equal(ds.string(T.PatientIdentityRemoved), 'YES');
    assert.equal(ds.string(T.DeidentificationMethod), 'CTP Default');
    assert.equal(ds.string(T.ClinicalTrialSiteName), 'Site A');
    assert.deepEqual(ds.strings(T.StudyDescription), ['CT Thorax / Research', 'extra'], 'CTP splits on backslash into values');
    assert.equal(ds.has(T.ClinicalTrialSiteID), false, 'without @always nothing is inserted');
  });

  it('@contents with regex, @value default, @truncate, @lowercase, @uppercase, @initials, @round, @pathelement', async () => {
    const { ds } = await run(`
 <e en="T" t="00081030" n="StudyDescription">@contents(this,"[^A-Za-z]","")</e>
 <e en="T" t="00080080" n="InstitutionName">@truncate(this,-8)</e>
 <e en="T" t="00100020" n="PatientID">@lowercase(this)</e>
 <e en="T" t="00080050" n="AccessionNumber">@uppercase(StudyDescription)</e>
 <e en="T" t="00100010" n="PatientName">@initials(this)</e>
 <e en="T" t="00101010" n="PatientAge">@round(this,5)</e>
 <e en="T" t="00080060" n="Modality">@value(OperatorsName,"none")</e>
 <e en="T" t="00091010" n="AcmeThing">@pathelement(StudyDescription,-1)</e>`);
    assert.equal(ds.string(T.StudyDescription), 'CTThoraxResearch');
    assert.equal(ds.string(T.InstitutionName), 'Hospital');
    assert.equal(ds.string(T.PatientID), 'pat01');
    assert.equal(ds.string(T.AccessionNumber), 'CT THORAX / RESEARCH', 'CTP does not enforce VR lengths');
    assert.equal(ds.string(T.PatientName), 'JQD');
    assert.equal(ds.string(T.PatientAge), '025Y');
    assert.equal(ds.string(T.Modality), 'none');
    assert.equal(ds.string(0x00091010), 'Research', 'last path element, LO padding trimmed');
  });

  it('@if conditions and @select', async () => {
    const { ds } = await run(`
 <e en="T" t="00080060" n="Modality">@if(this,equals,ct){MATCH}{NO}</e>
 <e en="T" t="00080080" n="InstitutionName">@if(this,contains,"hospital"){@remove()}{@keep()}</e>
 <e en="T" t="00081030" n="StudyDescription">@if(OperatorsName,isblank){blank}{set}</e>
 <e en="T" t="00101010" n="PatientAge">@if(this,greaterthan,30){old}{young}</e>
 <e en="T" t="00100020" n="PatientID">@if(this,matches,"PAT\\d+"){@select(){root}{item}}{x}</e>`);
    assert.equal(ds.string(T.Modality), 'MATCH');
    assert.equal(ds.has(T.InstitutionName), false);
    assert.equal(ds.string(T.StudyDescription), 'blank');
    assert.equal(ds.string(T.PatientAge), 'young');
    assert.equal(ds.string(T.PatientID), 'root');
  });

  it('@require, @blank, @date, @time', async () => {
    const now = new Date(2025, 4, 6, 7, 8, 9);
    const { ds } = await run(
      `
 <e en="T" t="00080060" n="Modality">@require()</e>
 <e en="T" t="00200010" n="StudyID">@always()@require(AccessionNumber)</e>
 <e en="T" t="00081030" n="StudyDescription">@blank(4)</e>
 <e en="T" t="00080021" n="SeriesDate">@always()@date()</e>
 <e en="T" t="00080031" n="SeriesTime">@always()@time(:)</e>`,
      { now },
    );
    assert.equal(ds.string(T.Modality), 'CT');
    assert.equal(ds.string(T.StudyID), 'ACC123');
    assert.equal(ds.bytes(T.StudyDescription)?.length, 4);
    assert.equal(ds.string(T.SeriesDate), '20250506');
    assert.equal(ds.string(T.SeriesTime), '07:08:09');
  });

  it('@hashdate, @modifydate, @dateinterval and @lookup through the key port', async () => {
    const keys = new MemoryCtpKeys(parseLookupTable('ptid/PAT01=SUBJ-7\nbase/PAT01=1/15/2020\nalias/x=@ptid/PAT01\n'));
    const { ds } = await run(
      `
 <e en="T" t="00080020" n="StudyDate">@hashdate(this,PatientID)</e>
 <e en="T" t="00080021" n="SeriesDate">@always()@dateinterval(StudyDate,base,PatientID)</e>
 <e en="T" t="00080023" n="ContentDate">@always()@dateinterval(StudyDate,base,PatientID,@ORIGIN)</e>
 <e en="T" t="00100020" n="PatientID">@lookup(this,ptid)</e>
 <e en="T" t="00100030" n="PatientBirthDate">@always()@lookup(PatientID,nothere,default,UNKNOWN)</e>
 <e en="T" t="00080012" n="InstanceCreationDate">@always()@modifydate(StudyDate,*,1,1)</e>`,
      { keys },
      '<p t="ORIGIN">20000101</p>',
    );
    assert.equal(ds.string(T.StudyDate), '20200730');
    assert.equal(ds.string(T.SeriesDate), '1477', 'DA written as is: CTP does not check the VR');
    assert.equal(ds.string(T.ContentDate), '20040117');
    assert.equal(ds.string(T.PatientID), 'SUBJ-7');
    assert.equal(ds.string(T.PatientBirthDate), 'UNKNOWN');
    assert.equal(ds.string(T.InstanceCreationDate), '20240101');
    const { ds: ds2 } = await run(`<e en="T" t="00100020" n="PatientID">@lookup(this,alias)</e>`, { keys }, '', (() => {
      const d = sample();
      d.setString(T.PatientID, 'LO', 'x');
      return d;
    })());
    assert.equal(ds2.string(T.PatientID), 'SUBJ-7', 'indirection @ptid/PAT01');
  });

  it('@lookup without an entry quarantines; @integer numbers per key type', async () => {
    const keys = new MemoryCtpKeys(new Map([['ptid/OTHER', 'S1']]));
    const r = await run(`<e en="T" t="00100020" n="PatientID">@lookup(this,ptid)</e>`, { keys });
    assert.equal(r.out.kind, 'quarantined');
    const { ds } = await run(`<e en="T" t="00100020" n="PatientID">@integer(this,ptid,5)</e><e en="T" t="00080050" n="AccessionNumber">@integer(this,acc,3)</e>`, { keys });
    assert.equal(ds.string(T.PatientID), '00001');
    assert.equal(ds.string(T.AccessionNumber), '001');
  });

  it('@quarantine and @skip end processing; @encrypt is unsupported and reported at import', async () => {
    assert.equal((await run(`<e en="T" t="00080060" n="Modality">@if(this,equals,CT){@quarantine()}{@keep()}</e>`)).out.kind, 'quarantined');
    assert.equal((await run(`<e en="T" t="00080060" n="Modality">@skip()</e>`)).out.kind, 'skipped');
    const r = await run(`<e en="T" t="00100020" n="PatientID">@encrypt(this,key)</e>`);
    assert.deepEqual(r.out, { kind: 'quarantined', reason: 'ctp-unsupported', detail: r.out.kind === 'quarantined' ? r.out.detail : '' });
    assert.equal(r.report.unsupported.length, 1);
    assert.equal(r.report.unsupported[0]!.line, 6);
  });

  it('global flags: private groups, unspecified elements, keep groups; en="F" is not a script', async () => {
    const { ds } = await run(
      `<e en="T" t="00100020" n="PatientID">@keep()</e>
 <e en="F" t="00080060" n="Modality">@keep()</e>`,
      {},
      `<k en="T" t="0008">Keep group 0008</k>
 <r en="T" t="privategroups">x</r>
 <r en="T" t="unspecifiedelements">x</r>`,
    );
    assert.equal(ds.has(0x00091010), false);
    assert.equal(ds.has(0x00090010), false);
    assert.equal(ds.string(T.PatientID), 'PAT01');
    assert.equal(ds.has(T.PatientName), false, 'unscripted -> removed');
    assert.equal(ds.string(T.Modality), 'CT', 'group 0008 kept');
    assert.equal(ds.string(T.StudyInstanceUID), '1.2.3', 'always kept');
    assert.equal(ds.has(T.SeriesInstanceUID), false);
  });

  it('sequences: by default the script applies inside; strict reproduces CTP; @process always recurses', async () => {
    const el = `<e en="T" t="00081155" n="ReferencedSOPInstanceUID">@hashuid(@UIDROOT,this)</e>`;
    const def = await run(el);
    assert.deepEqual(ok(def.out).sequencesWithoutProcess, ['(0008,1140)']);
    const item = def.ds.items(T.ReferencedImageSequence)![0]!;
    assert.match(item.string(T.ReferencedSOPInstanceUID)!, new RegExp(`^${ROOT.replace(/\./g, '\\.')}\\.\\d+$`));
    const strict = await run(el, { strictSequences: true });
    assert.deepEqual(ok(strict.out).sequencesWithoutProcess, ['(0008,1140)']);
    assert.equal(strict.ds.items(T.ReferencedImageSequence)![0]!.string(T.ReferencedSOPInstanceUID), '1.2.3.4.9');
    const proc = await run(`${el}<e en="T" t="00081140" n="ReferencedImageSequence">@process()</e>`, { strictSequences: true });
    assert.deepEqual(ok(proc.out).sequencesWithoutProcess, []);
    assert.notEqual(proc.ds.items(T.ReferencedImageSequence)![0]!.string(T.ReferencedSOPInstanceUID), '1.2.3.4.9');
  });

  it('DeIdentificationMethodCodeSequence gets coded items', async () => {
    const { ds } = await run(`<e en="T" t="00120064" n="DeIdentificationMethodCodeSeq">113100/113105</e>`);
    const items = ds.items(T.DeidentificationMethodCodeSequence)!;
    assert.deepEqual(items.map((i) => [i.string(T.CodeValue), i.string(T.CodingSchemeDesignator), i.string(T.CodeMeaning)]), [
      ['113100', 'DCM', 'Basic Application Confidentiality Profile'],
      ['113105', 'DCM', 'Clean Descriptors Option'],
    ]);
  });
});

describe('CTP script import', () => {
  it('reads the properties form too', () => {
    const { recipe } = importCtpScript('param.UIDROOT=1.2.3\nset.[0010,0010]PatientName=@empty()\n#set.[0010,0020]PatientID=@keep()\nkeep.group0018=\nremove.privategroups=\n');
    assert.equal(recipe.params.get('UIDROOT'), '1.2.3');
    assert.deepEqual([...recipe.elements.keys()], [0x00100010]);
    assert.deepEqual([...recipe.keepGroups], [0x18]);
    assert.equal(recipe.removePrivateGroups, true);
  });

  it('reports bad constructs with their line; malformed scripts are coded errors', () => {
    const { report } = importCtpScript(`<script>
 <e en="T" t="00100010" n="PatientName">@frobnicate(this)</e>
 <e en="T" t="0010" n="Bad">@keep()</e>
 <e en="T" t="00100020" n="PatientID">@hash(this,@NOPE)</e>
</script>`);
    assert.deepEqual(report.unsupported.map((p) => p.line), [2]);
    assert.ok(report.warnings.some((w) => w.line === 3));
    assert.ok(report.warnings.some((w) => w.line === 4 && w.message.includes('@NOPE')));
    assert.throws(() => importCtpScript('<notascript/>'), (e) => isAppError(e, 'CTP_SCRIPT_INVALID'));
    assert.throws(() => parseLookupTable('ptid/1=A\nno-slash-here\n'), (e) => isAppError(e, 'KEYS_IMPORT_INVALID') && /line 2/.test((e as Error).message));
  });
});
