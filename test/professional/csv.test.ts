import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/lib/errors';
import { type ImportedSections, type ImportWarning, parseLinkedInDate, readLinkedInCsv, splitDateRange } from '../../src/modules/professional/linkedin-csv';

// The LinkedIn CSV reader on its own, for the rows the export fixtures (test/professional/import.test.ts)
// do not have: every date form, over-long and missing cells, and files uploaded under other names.
const csv = (...lines: string[]) => new TextEncoder().encode(lines.join('\n'));

function read(name: string, text: Uint8Array, section: Parameters<typeof readLinkedInCsv>[2] = null) {
  const sections: ImportedSections = {};
  const warnings: ImportWarning[] = [];
  const as = readLinkedInCsv(name, text, section, sections, warnings);
  return { as, sections, warnings };
}

describe('LinkedIn CSV reading', () => {
  it.each([
    ['Jan 2020', 'start', '2020-01'],
    ['Sept. 2021', 'start', '2021-09'],
    ['december 1999', 'end', '1999-12'],
    ['Smarch 2020', 'start', undefined],
    ['2020', 'start', '2020-01'],
    ['2020', 'end', '2020-12'],
    ['2020-3-15', 'start', '2020-03'],
    ['2020-13', 'start', undefined],
    ['3/2020', 'start', '2020-03'],
    ['13/2020', 'end', undefined],
    ['  Present ', 'end', null],
    ['', 'start', null],
    ['last spring', 'start', undefined],
  ] as const)('should read the date %j as a %s: %j', (value, edge, want) => {
    expect(parseLinkedInDate(value, edge)).toBe(want);
  });

  it('should split a date range on a spaced hyphen or dash, and leave one date whole', () => {
    expect(splitDateRange('Jan 2020 - Present')).toEqual(['Jan 2020', 'Present']);
    expect(splitDateRange('2019 – 2021')).toEqual(['2019', '2021']);
    expect(splitDateRange('2020-01')).toEqual(['2020-01', null]);
  });

  it('should cut over-long cells, skip rows that fail, and read a range from the start column', () => {
    const { sections, warnings } = read(
      'Positions.csv',
      csv(
        'Company Name,Title,Started On,Finished On,Location',
        `Acme,${'T'.repeat(150)},Jan 2020 - Mar 2021,,`,
        'Acme,Engineer,,,', // no start
        'Acme,Engineer,whenever,,', // not a date
        ',Engineer,2019,,Oslo', // no company
      ),
      'positions',
    );
    expect(sections.positions).toEqual([{ title: 'T'.repeat(100), company: 'Acme', location: null, started_on: '2020-01', ended_on: '2021-03', description: null }]);
    expect(warnings).toEqual([
      { file: 'Positions.csv', line: 2, message: 'Title is longer than 100 characters: cut' },
      { file: 'Positions.csv', line: 3, message: 'Started On is empty: row skipped' },
      { file: 'Positions.csv', line: 4, message: 'Started On "whenever" is not a date (Jan 2020, 2020 or 2020-01)' },
      { file: 'Positions.csv', line: 5, message: expect.stringMatching(/^company .*: row skipped$/) },
    ]);
  });

  it('should tell a CSV uploaded under another name by its header, and read an education range', () => {
    const education = read(
      'export/my-schools.csv',
      csv('School Name,Start Date,End Date,Degree Name,Notes', 'Open University,2010 - 2014,,BSc,Evenings', 'Night School,,,,'),
    );
    expect(education.as).toBe('education');
    expect(education.sections.education).toEqual([
      { school: 'Open University', degree: 'BSc', field: null, started_on: '2010-01', ended_on: '2014-12', activities: 'Evenings' },
      { school: 'Night School', degree: null, field: null, started_on: null, ended_on: null, activities: null },
    ]);
    // Warnings name the file the section really is.
    const skills = read('renamed.csv', csv('Name', 'TypeScript', '', 'Rust'));
    expect(skills).toMatchObject({ as: 'skills', sections: { skills: ['TypeScript', 'Rust'] } });
    const languages = read('langs.csv', csv('Name,Proficiency', 'Norwegian,', ',Native'));
    expect(languages.as).toBe('languages');
    expect(languages.sections.languages).toEqual([{ name: 'Norwegian', proficiency: null }]);
    expect(languages.warnings).toEqual([{ file: 'Languages.csv', line: 3, message: expect.stringMatching(/row skipped$/) }]);
  });

  it('should read only the first profile row, and an empty profile as nothing', () => {
    const two = read('Profile.csv', csv('First Name,Last Name,Headline,Industry', 'Ada,Lovelace,Analyst,Research', 'Ada,Again,Second,Other'), 'profile');
    expect(two.sections.profile).toEqual({ headline: 'Analyst', summary: null, industry: 'Research' });
    expect(two.warnings).toEqual(
      expect.arrayContaining([
        { file: 'Profile.csv', line: 3, message: 'only the first profile row is read' },
        { file: 'Profile.csv', line: null, message: expect.stringContaining('First Name, Last Name: not imported') },
      ]),
    );
    const empty = read('Profile.csv', csv('First Name,Last Name,Headline'), 'profile');
    expect(empty.sections.profile).toEqual({ headline: null, summary: null, industry: null });
    expect(empty.warnings).toEqual([]);
  });

  it('should refuse a file without its header row, one of no known kind, and one that is not UTF-8', () => {
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ApiError);
        return (err as ApiError).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal(() => read('Skills.csv', csv('Skill', 'x'), 'skills'))).toBe('Skills.csv: has no header row with the columns Name');
    expect(refusal(() => read('notes.csv', csv('Colour,Shape', 'red,round')))).toMatch(/^notes\.csv: is not one of the LinkedIn export files/);
    expect(refusal(() => read('Skills.csv', new Uint8Array([0x4e, 0x61, 0xff, 0xfe]), 'skills'))).toBe('Skills.csv: is not UTF-8 text');
  });
});
