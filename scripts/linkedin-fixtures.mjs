#!/usr/bin/env node
// Writes the LinkedIn data-export fixtures the tests read (test/fixtures/linkedin/): `npm run fixtures:linkedin`.
// The CSVs use the column headers LinkedIn documents for its export (Profile, Positions, Education,
// Skills, Certifications, Languages), with the quirks real exports have: a UTF-8 byte-order mark, a
// `Notes:` preamble before the header, quoted fields with commas and line breaks, CRLF line ends, and
// dates as `Jan 2020`, `2020` and `Jan 2020 - Present`. Some archives are broken on purpose.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';

const DIR = 'test/fixtures/linkedin';
mkdirSync(DIR, { recursive: true });

const BOM = '\uFEFF';
const crlf = (text) => text.replace(/\n/g, '\r\n');
/** A fixed date, so the archives are byte-for-byte the same on every run. */
const mtime = new Date('2026-01-15T12:00:00Z');
const zip = (files) => zipSync(Object.fromEntries(Object.entries(files).map(([name, data]) => [name, [typeof data === 'string' ? strToU8(data) : data, { mtime }]])), { level: 6 });

export const PROFILE_CSV =
  BOM +
  crlf(`First Name,Last Name,Maiden Name,Address,Birth Date,Headline,Summary,Industry,Zip Code,Geo Location,Twitter Handles,Websites,Instant Messengers
Ada,Lovelace,Byron,"12 St James's Square, London",Dec 10 1815,"Analyst of engines, poet of numbers","I write programs for machines
that do not exist yet.",Research,SW1Y 4JH,"London, United Kingdom",[@ada],[https://ada.example],
`);

export const POSITIONS_CSV =
  BOM +
  crlf(`Notes:
"This file lists the positions on your profile. Some dates may be missing, and
descriptions keep their line breaks."

Company Name,Title,Description,Location,Started On,Finished On
Analytical Engine Project,Translator and annotator,"Notes A to G, including
the first published algorithm.","London, UK",Oct 2018,Sep 2019
Difference Engine Society,Correspondent,,London,Jan 2012 - Present,
Royal Institution,Lecturer,"Evening lectures on ""the calculus""",,2016,2017
`);

export const EDUCATION_CSV = crlf(`School Name,Start Date,End Date,Notes,Degree Name,Activities
Home tutoring,2008,2012,Taught by Mary Somerville,,Mathematics and astronomy
University of London,Feb 2014,2016,,Correspondence course,
`);

export const SKILLS_CSV = crlf(`Name
Mathematics
Algorithms
mathematics
Poetical science
`);

export const CERTIFICATIONS_CSV = crlf(`Name,Url,Authority,Started On,Finished On,License Number
Analytical Engine Programmer,https://certs.example/ae,Babbage & Co.,Jul 2019,,AE-1
Translation (French),not-a-url,Royal Society,2018,,
`);

export const LANGUAGES_CSV = crlf(`Name,Proficiency
French,Full professional proficiency
English,Native or bilingual proficiency
`);

const CONNECTIONS_CSV = crlf(`Notes:
"When exporting your connection data, you may notice that some of the email addresses are missing."

First Name,Last Name,URL,Email Address,Company,Position,Connected On
Charles,Babbage,https://www.linkedin.com/in/charles,,Analytical Engine Project,Inventor,05 Jun 1833
`);

const write = (name, bytes) => {
  writeFileSync(join(DIR, name), bytes);
  console.log(`${join(DIR, name)} (${bytes.length.toLocaleString('en')} bytes)`);
};

// A complete export: the six files this import reads, and others it ignores with a warning.
write(
  'basic-export.zip',
  zip({
    'Profile.csv': PROFILE_CSV,
    'Positions.csv': POSITIONS_CSV,
    'Education.csv': EDUCATION_CSV,
    'Skills.csv': SKILLS_CSV,
    'Certifications.csv': CERTIFICATIONS_CSV,
    'Languages.csv': LANGUAGES_CSV,
    'Connections.csv': CONNECTIONS_CSV,
    'Jobs/Job Applications.csv': 'Application Date,Contact Email\n',
  }),
);

// One CSV alone, as a user might upload it.
write('Positions.csv', strToU8(POSITIONS_CSV));

// Rows that fail the checks: skipped with a warning each, the good rows imported.
write(
  'bad-rows.zip',
  zip({
    'Positions.csv': crlf(`Company Name,Title,Description,Location,Started On,Finished On
Good Co,Engineer,,,Mar 2019,Feb 2021
Ended Early,Analyst,,,Jun 2020,Jan 2020
No Title Inc,,,,Jan 2018,
Vague Ltd,Consultant,,,sometime,
Undated Corp,Advisor,,,,
`),
  }),
);

// Positions.csv whose header row is not LinkedIn's: 400 naming the file; nothing imported (Skills.csv is fine).
write(
  'bad-header.zip',
  zip({
    'Skills.csv': SKILLS_CSV,
    'Positions.csv': crlf(`Employer,Role,From,To
Acme,Engineer,2020,2021
`),
  }),
);

// An archive with none of the files this import reads.
write('no-profile-files.zip', zip({ 'Connections.csv': CONNECTIONS_CSV, 'Rich_Media.csv': 'Date/Time,Media Link\n' }));

// A zip bomb: 150 MB of zeros in ~150 KB; must be refused while inflating.
write('zip-bomb.zip', zipSync({ 'Positions.csv': [new Uint8Array(150 * 1024 * 1024), { mtime }] }, { level: 9 }));

// More entries than an export ever has.
write('too-many-entries.zip', zip(Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`filler/${i}.txt`, 'x']))));

// A CSV in Latin-1, not UTF-8.
write('Skills-latin1.csv', Uint8Array.from([...'Name\nCaf'].map((c) => c.charCodeAt(0)).concat([0xe9, 0x0a])));
