import { env } from 'cloudflare:workers';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { getOwnProfessional, importUpload, linkedinFixture, position, putProfessional } from './helpers';

const importOf = async (user: TestUser, fixture: string, query = '') => expectStatus(await importUpload(user, linkedinFixture(fixture), fixture, query), 200);

describe('LinkedIn import', () => {
  it('should map a whole export: profile, positions, education, skills, certifications, languages', async () => {
    const ada = await createUser();
    const body = await importOf(ada, 'basic-export.zip');
    expect(body.dry_run).toBe(false);
    expect(body.imported).toEqual({ positions: 3, education: 2, skills: 3, certifications: 2, languages: 2 });
    const { profile } = body;
    expect(profile).toMatchObject({
      headline: 'Analyst of engines, poet of numbers',
      summary: 'I write programs for machines\nthat do not exist yet.',
      industry: 'Research',
      visibility: 'public',
      open_to_work: false,
    });
    // Quoted commas and line breaks, a Notes preamble, a BOM, and the three date forms.
    expect(profile.positions.map(({ id: _id, ...p }: any) => p)).toEqual([
      { title: 'Translator and annotator', company: 'Analytical Engine Project', location: 'London, UK', started_on: '2018-10', ended_on: '2019-09', description: 'Notes A to G, including\nthe first published algorithm.' },
      { title: 'Correspondent', company: 'Difference Engine Society', location: 'London', started_on: '2012-01', ended_on: null, description: null },
      { title: 'Lecturer', company: 'Royal Institution', location: null, started_on: '2016-01', ended_on: '2017-12', description: 'Evening lectures on "the calculus"' },
    ]);
    expect(profile.education[0]).toMatchObject({ school: 'Home tutoring', degree: null, started_on: '2008-01', ended_on: '2012-12', activities: 'Mathematics and astronomy\n\nTaught by Mary Somerville' });
    expect(profile.education[1]).toMatchObject({ school: 'University of London', degree: 'Correspondence course', started_on: '2014-02', ended_on: '2016-12' });
    expect(profile.skills).toEqual(['Mathematics', 'Algorithms', 'Poetical science']);
    expect(profile.certifications).toEqual([
      { name: 'Analytical Engine Programmer', authority: 'Babbage & Co.', issued_on: '2019-07', url: 'https://certs.example/ae' },
      { name: 'Translation (French)', authority: 'Royal Society', issued_on: '2018-01', url: null },
    ]);
    expect(profile.languages).toEqual([
      { name: 'French', proficiency: 'Full professional proficiency' },
      { name: 'English', proficiency: 'Native or bilingual proficiency' },
    ]);
    expect(body.warnings).toEqual(
      expect.arrayContaining([
        { file: 'Connections.csv', line: null, message: expect.stringContaining('ignored') },
        { file: 'Jobs/Job Applications.csv', line: null, message: expect.stringContaining('ignored') },
        { file: 'Certifications.csv', line: 3, message: expect.stringContaining('not an http(s) URL') },
        { file: 'Profile.csv', line: null, message: expect.stringContaining('Address, Birth Date') },
      ]),
    );
    expect(await getOwnProfessional(ada)).toEqual(profile);
    // Private contact data of the export is never stored.
    const stored = JSON.stringify(await env.DB.prepare('SELECT * FROM professional_profiles WHERE user_id = ?1').bind(ada.id).first());
    for (const secret of ['St James', '1815', 'SW1Y', 'Byron', '@ada']) expect(stored).not.toContain(secret);
  });

  it('should preview with dry_run and change nothing', async () => {
    const ada = await createUser();
    const before = await putProfessional(ada, { headline: 'Mine', positions: [position()] });
    const body = await importOf(ada, 'basic-export.zip', '?dry_run=true&mode=replace');
    expect(body.dry_run).toBe(true);
    expect(body.profile.positions).toHaveLength(3);
    expect(body.profile.headline).toBe('Analyst of engines, poet of numbers');
    expect(await getOwnProfessional(ada)).toEqual(before);
  });

  it('should merge without duplicates, keeping what you wrote', async () => {
    const ada = await createUser();
    await putProfessional(ada, {
      headline: 'My own headline',
      positions: [position({ title: 'Lecturer', company: 'ROYAL INSTITUTION', started_on: '2016-01', ended_on: '2017-12' }), position()],
      skills: ['algorithms'],
    });
    const first = await importOf(ada, 'basic-export.zip');
    expect(first.imported.positions).toBe(2);
    expect(first.imported.skills).toBe(2);
    expect(first.profile.headline).toBe('My own headline');
    expect(first.profile.summary).toBe('I write programs for machines\nthat do not exist yet.');
    expect(first.profile.positions.map((p: any) => p.title)).toEqual(['Lecturer', 'Engineer', 'Translator and annotator', 'Correspondent']);
    expect(first.profile.skills).toEqual(['algorithms', 'Mathematics', 'Poetical science']);

    const second = await importOf(ada, 'basic-export.zip');
    expect(second.imported).toEqual({ positions: 0, education: 0, skills: 0, certifications: 0, languages: 0 });
    expect(second.profile).toEqual(first.profile);
  });

  it('should replace the sections the upload holds, and leave the others', async () => {
    const ada = await createUser();
    await putProfessional(ada, { headline: 'Mine', positions: [position(), position({ title: 'Other' })], skills: ['Knitting'], languages: [{ name: 'German' }] });
    const form = linkedinFixture('Positions.csv');
    const body = await expectStatus(await importUpload(ada, form, 'Positions.csv', '?mode=replace'), 200);
    expect(body.imported.positions).toBe(3);
    expect(body.profile.positions.map((p: any) => p.title)).toEqual(['Translator and annotator', 'Correspondent', 'Lecturer']);
    expect(body.profile).toMatchObject({ headline: 'Mine', skills: ['Knitting'], languages: [{ name: 'German', proficiency: null }] });
  });

  it('should read a lone CSV by its header when it has another name, also as a raw text/csv body', async () => {
    const ada = await createUser();
    const csv = linkedinFixture('Positions.csv');
    const renamed = await expectStatus(await importUpload(ada, csv, 'my jobs.csv', '?dry_run=true'), 200);
    expect(renamed.imported.positions).toBe(3);
    const raw = await call('/me/professional/import/linkedin', { method: 'POST', body: csv, token: ada.accessToken, headers: { 'Content-Type': 'text/csv' } });
    expect((await expectStatus(raw, 200)).imported.positions).toBe(3);
  });

  it('should skip rows that fail the checks, with a warning naming the file and line', async () => {
    const ada = await createUser();
    const body = await importOf(ada, 'bad-rows.zip');
    expect(body.profile.positions.map((p: any) => p.title)).toEqual(['Engineer']);
    expect(body.warnings).toEqual([
      { file: 'Positions.csv', line: 3, message: expect.stringContaining('ended_on must not be before started_on') },
      { file: 'Positions.csv', line: 4, message: expect.stringContaining('title') },
      { file: 'Positions.csv', line: 5, message: expect.stringContaining('"sometime" is not a date') },
      { file: 'Positions.csv', line: 6, message: expect.stringContaining('Started On is empty') },
    ]);
  });

  it('should import an archive of an extracted folder (files under a directory)', async () => {
    const ada = await createUser();
    const nested = zipSync({ 'Basic_LinkedInDataExport/': new Uint8Array(0), 'Basic_LinkedInDataExport/Skills.csv': new TextEncoder().encode('Name\nRust\n') });
    const body = await expectStatus(await importUpload(ada, nested, 'export.zip'), 200);
    expect(body.profile.skills).toEqual(['Rust']);
  });
});

describe('LinkedIn import: bad uploads change nothing', () => {
  async function expectUnchanged(user: TestUser, res: Response, status: number, detail: RegExp) {
    const before = await getOwnProfessional(user);
    const problem = await expectProblem(res, status, 'file');
    expect(problem.detail).toMatch(detail);
    expect(await getOwnProfessional(user)).toEqual(before);
  }

  it('should refuse a CSV without its header row with 400 naming the file (and import none of the archive)', async () => {
    const ada = await createUser();
    await putProfessional(ada, { skills: ['Knitting'] });
    await expectUnchanged(ada, await importUpload(ada, linkedinFixture('bad-header.zip'), 'export.zip'), 400, /Positions\.csv.*header row/);
    expect((await getOwnProfessional(ada)).skills).toEqual(['Knitting']);
  });

  it('should refuse an archive with none of the profile files, text that is not UTF-8, an unclosed quote', async () => {
    const ada = await createUser();
    await putProfessional(ada, { skills: ['Knitting'] });
    await expectUnchanged(ada, await importUpload(ada, linkedinFixture('no-profile-files.zip'), 'export.zip'), 400, /none of Profile\.csv/);
    await expectUnchanged(ada, await importUpload(ada, linkedinFixture('Skills-latin1.csv'), 'Skills.csv'), 400, /Skills\.csv: is not UTF-8/);
    const unclosed = new TextEncoder().encode('Name\nGood\n"Never closed\nMore\n');
    await expectUnchanged(ada, await importUpload(ada, unclosed, 'Skills.csv'), 400, /Skills\.csv: line 3: a quoted field is never closed/);
    await expectUnchanged(ada, await importUpload(ada, new TextEncoder().encode('just,some\ntext,here\n'), 'notes.csv'), 400, /notes\.csv: is not one of the LinkedIn export files/);
  });

  it('should refuse a zip bomb, too many entries, and an upload over 20 MB with 413', async () => {
    const ada = await createUser();
    await expectUnchanged(ada, await importUpload(ada, linkedinFixture('zip-bomb.zip'), 'export.zip'), 413, /more than 100 MB/);
    await expectUnchanged(ada, await importUpload(ada, linkedinFixture('too-many-entries.zip'), 'export.zip'), 413, /more than 1000 entries/);
    const huge = new Uint8Array(20 * 1024 * 1024 + 1);
    huge.set([0x50, 0x4b, 0x03, 0x04]);
    await expectUnchanged(ada, await importUpload(ada, huge, 'export.zip'), 413, /larger than 20 MB/);
  });

  it('should refuse, before parsing them, CSV files too big to be a profile: over 5 MB in all or 10,000 rows in one (413 naming the file)', async () => {
    const ada = await createUser();
    await putProfessional(ada, { skills: ['Knitting'] });
    const encode = (text: string) => new TextEncoder().encode(text);
    // 6 MB of rows in an archive of a few kilobytes: far under the 100 MB unpacked cap, far over what a profile holds.
    const rows = zipSync({ 'export/Skills.csv': encode(`Name\n${'ab\n'.repeat(2_000_000)}`), 'export/Languages.csv': encode('Name,Proficiency\nFrench,Native\n') }, { level: 9 });
    expect(rows.byteLength).toBeLessThan(100_000);
    await expectUnchanged(ada, await importUpload(ada, rows, 'export.zip'), 413, /Skills\.csv: the CSV files this import reads hold more than 5 MB/);
    // One line of 6 MB of fields: a CSV parser would make millions of cells of it.
    const cells = zipSync({ 'Positions.csv': encode('a,'.repeat(3_000_000)) }, { level: 9 });
    await expectUnchanged(ada, await importUpload(ada, cells, 'export.zip'), 413, /Positions\.csv: the CSV files this import reads hold more than 5 MB/);
    await expectUnchanged(ada, await importUpload(ada, encode('a,'.repeat(3_000_000)), 'Positions.csv'), 413, /Positions\.csv: the CSV files this import reads hold more than 5 MB/);
    // Small, but more rows than any section of a profile could use.
    const many = `Name\n${Array.from({ length: 10_001 }, (_, i) => `s${i}`).join('\n')}\n`;
    await expectUnchanged(ada, await importUpload(ada, encode(many), 'Skills.csv'), 413, /Skills\.csv: more than 10,000 rows/);
    await expectUnchanged(ada, await importUpload(ada, encode(many), 'upload.csv'), 413, /upload\.csv: more than 10,000 rows/);
  });

  it('should refuse what is neither a ZIP nor a CSV with 415, and a damaged ZIP with 400', async () => {
    const ada = await createUser();
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    await expectUnchanged(ada, await importUpload(ada, png, 'photo.png'), 415, /ZIP archive or one of its CSV files/);
    const damaged = linkedinFixture('basic-export.zip').slice(0, 300);
    const res = await importUpload(ada, damaged, 'export.zip');
    expect([400, 413]).toContain(res.status);
    await expectProblem(await call('/me/professional/import/linkedin', { method: 'POST', body: 'x', token: ada.accessToken, headers: { 'Content-Type': 'application/json' } }), 415);
  });

  it('should refuse an import that would pass a profile limit, naming the file', async () => {
    const ada = await createUser();
    const skills = 'Name\n' + Array.from({ length: 501 }, (_, i) => `Skill ${i}`).join('\n');
    await expectUnchanged(ada, await importUpload(ada, new TextEncoder().encode(skills), 'Skills.csv'), 400, /Skills\.csv: the profile would hold 501 skills/);
  });

  it('should check the mode and need a token', async () => {
    const ada = await createUser();
    await expectProblem(await importUpload(ada, linkedinFixture('Positions.csv'), 'Positions.csv', '?mode=overwrite'), 400, 'mode');
    const form = new FormData();
    form.append('file', new File([linkedinFixture('Positions.csv')], 'Positions.csv'));
    await expectProblem(await call('/me/professional/import/linkedin', { method: 'POST', body: form }), 401);
  });
});
