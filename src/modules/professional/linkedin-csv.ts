import Papa from 'papaparse';
import type { z } from '@hono/zod-openapi';
import { ApiError } from '../../lib/errors';
import { cleanText, type TextKind } from '../../policy/text-hygiene';
import { IMPORT_LIMITS } from './linkedin-archive';
import { CertificationSchema, EducationInputSchema, LanguageSchema, LENGTHS, PositionInputSchema } from './professional.schemas';
import type { ProfileDraft } from './professional.service';

/**
 * LinkedIn data-export CSVs → profile sections. Each file is found by its name (any folder of the
 * archive), its header row by the columns LinkedIn documents (after any `Notes:` preamble), and each
 * row is checked with the same schemas as PUT /me/professional: a row that fails is skipped with a
 * warning naming its file and line, never stored half-right.
 */

export type SectionName = 'profile' | 'positions' | 'education' | 'skills' | 'certifications' | 'languages';

export interface ImportWarning {
  file: string;
  line: number | null;
  message: string;
}

/** Each file this import reads, with the header columns it needs (matched case-insensitively). */
export const LINKEDIN_FILES: Record<SectionName, { file: string; required: string[] }> = {
  profile: { file: 'Profile.csv', required: ['First Name', 'Last Name', 'Headline'] },
  positions: { file: 'Positions.csv', required: ['Company Name', 'Title', 'Started On'] },
  education: { file: 'Education.csv', required: ['School Name', 'Start Date', 'End Date'] },
  skills: { file: 'Skills.csv', required: ['Name'] },
  certifications: { file: 'Certifications.csv', required: ['Name', 'Authority'] },
  languages: { file: 'Languages.csv', required: ['Name', 'Proficiency'] },
};

/** Tried in this order on a CSV uploaded under another name: the most specific headers first. */
const BY_HEADER: SectionName[] = ['positions', 'education', 'profile', 'certifications', 'languages', 'skills'];

/** Profile.csv columns that hold private contact data: never imported. */
const PRIVATE_PROFILE_COLUMNS = ['First Name', 'Last Name', 'Maiden Name', 'Address', 'Birth Date', 'Zip Code', 'Geo Location', 'Twitter Handles', 'Websites', 'Instant Messengers'];

/** The section a file of the archive holds, by its name (`Positions.csv`, `export/Positions.csv`), or null. */
export function sectionOfFile(path: string): SectionName | null {
  const base = path.split('/').pop()!.toLowerCase();
  const found = Object.entries(LINKEDIN_FILES).find(([, spec]) => spec.file.toLowerCase() === base);
  return found ? (found[0] as SectionName) : null;
}

export interface ImportedSections {
  profile?: Pick<ProfileDraft, 'headline' | 'summary' | 'industry'>;
  positions?: ProfileDraft['positions'];
  education?: ProfileDraft['education'];
  skills?: string[];
  certifications?: ProfileDraft['certifications'];
  languages?: ProfileDraft['languages'];
}

interface CsvRow {
  line: number;
  get: (column: string) => string;
}

const badFile = (file: string, message: string) => new ApiError('validation_failed', `${file}: ${message}`, { errors: [{ field: 'file', message: `${file}: ${message}` }] });

function decodeText(file: string, bytes: Uint8Array): string {
  try {
    // The decoder drops a UTF-8 byte-order mark.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes).replace(/\r\n?/g, '\n');
  } catch {
    throw badFile(file, 'is not UTF-8 text');
  }
}

interface ParsedCsv {
  header: string[];
  rows: CsvRow[];
}

/** Rows after the header row (the first row naming every `required` column), with their line numbers. */
function parseCsv(file: string, text: string, required: string[] | null): ParsedCsv & { headerFound: boolean } {
  const records: { cells: string[]; line: number }[] = [];
  let start = 0;
  let line = 1;
  let quoteError: number | null = null;
  let tooManyRows = false;
  Papa.parse<string[]>(text, {
    skipEmptyLines: 'greedy',
    step(result, parser) {
      if (records.length >= IMPORT_LIMITS.csvRows) {
        tooManyRows = true;
        parser.abort();
        return;
      }
      // Count the lines up to where this record starts (after blank lines), then up to its end.
      for (; start < text.length && text[start] === '\n'; start++) line++;
      const recordLine = line;
      const end = result.meta.cursor;
      for (let i = start; i < end; i++) if (text[i] === '\n') line++;
      start = end;
      if (result.errors.some((e) => e.type === 'Quotes')) quoteError ??= recordLine;
      records.push({ cells: result.data.map((cell) => cell.trim()), line: recordLine });
    },
  });
  if (tooManyRows) {
    const message = `${file}: more than ${IMPORT_LIMITS.csvRows.toLocaleString('en')} rows`;
    throw new ApiError('payload_too_large', `${message}.`, { errors: [{ field: 'file', message }] });
  }
  if (quoteError !== null) throw badFile(file, `line ${quoteError}: a quoted field is never closed`);
  const wanted = (required ?? []).map((c) => c.toLowerCase());
  const headerAt = records.findIndex((r) => {
    const names = r.cells.map((c) => c.toLowerCase());
    return wanted.length > 0 && wanted.every((c) => names.includes(c));
  });
  if (headerAt < 0) return { header: [], rows: [], headerFound: false };
  const header = records[headerAt]!.cells.map((c) => c.toLowerCase());
  const rows = records.slice(headerAt + 1).map(({ cells, line: at }) => ({
    line: at,
    get: (column: string) => {
      const i = header.indexOf(column.toLowerCase());
      return i >= 0 ? (cells[i] ?? '') : '';
    },
  }));
  return { header, rows, headerFound: true };
}

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, sept: 9, oct: 10, nov: 11, dec: 12,
  january: 1, february: 2, march: 3, april: 4, june: 6, july: 7, august: 8, september: 9, october: 10, november: 11, december: 12,
};

const month = (year: string, m: number) => (m >= 1 && m <= 12 ? `${year}-${String(m).padStart(2, '0')}` : undefined);

/**
 * A LinkedIn date as `YYYY-MM`: `Jan 2020`, `January 2020`, `2020-01`, `01/2020`, or a year alone
 * (`2020`: January as a start, December as an end, so the range covers the year). Empty or `Present`
 * is null; anything else is undefined (not a date).
 */
export function parseLinkedInDate(value: string, edge: 'start' | 'end'): string | null | undefined {
  const v = value.trim();
  if (v === '' || /^present$/i.test(v)) return null;
  let m = /^([A-Za-z]+)\.?\s+(\d{4})$/.exec(v);
  if (m) return MONTHS[m[1]!.toLowerCase()] ? month(m[2]!, MONTHS[m[1]!.toLowerCase()]!) : undefined;
  if ((m = /^(\d{4})$/.exec(v))) return `${m[1]}-${edge === 'start' ? '01' : '12'}`;
  if ((m = /^(\d{4})-(\d{1,2})(?:-\d{1,2})?$/.exec(v))) return month(m[1]!, Number(m[2]));
  if ((m = /^(\d{1,2})\/(\d{4})$/.exec(v))) return month(m[2]!, Number(m[1]));
  return undefined;
}

/** Splits `Jan 2020 - Present` (hyphen, en or em dash) into its two ends; a single date has no end. */
export function splitDateRange(value: string): [string, string | null] {
  const parts = value.split(/\s+[-–—]\s+/);
  return parts.length === 2 ? [parts[0]!, parts[1]!] : [value, null];
}

/** Reads each row of one section, checking it with `schema`; rows that fail become warnings. */
class SectionReader {
  constructor(
    private readonly file: string,
    private readonly warnings: ImportWarning[],
  ) {}

  warn(line: number | null, message: string) {
    this.warnings.push({ file: this.file, line, message });
  }

  /**
   * A cell (or a value made from cells) through text hygiene (left out with a warning when it fails),
   * cut to `max` characters with a warning; null when empty.
   */
  text(row: CsvRow, column: string, max: number, raw = row.get(column), kind: TextKind = 'multi_line'): string | null {
    if (!raw) return null;
    const clean = cleanText(raw, kind);
    if (!clean.ok) {
      this.warn(row.line, `${column} ${clean.message}: left out`);
      return null;
    }
    const value = clean.value;
    if (!value) return null;
    if (value.length <= max) return value;
    this.warn(row.line, `${column} is longer than ${max} characters: cut`);
    return value.slice(0, max);
  }

  /** A single-line cell: line breaks become spaces. */
  line(row: CsvRow, column: string, max: number): string | null {
    return this.text(row, column, max, row.get(column)?.replace(/\s*[\r\n]+\s*/g, ' '), 'single_line');
  }

  date(row: CsvRow, column: string, raw: string | null, edge: 'start' | 'end'): string | null | undefined {
    const parsed = parseLinkedInDate(raw ?? '', edge);
    if (parsed === undefined) this.warn(row.line, `${column} "${raw}" is not a date (Jan 2020, 2020 or 2020-01)`);
    return parsed;
  }

  /** The row checked with `schema` (as PUT would), or null with a warning naming the first problem. */
  check<S extends z.ZodType>(row: CsvRow, schema: S, value: unknown): z.output<S> | null {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    this.warn(row.line, `${issue.path.join('.') || 'row'} ${issue.message}: row skipped`);
    return null;
  }
}

function readPositions(r: SectionReader, rows: CsvRow[]): NonNullable<ImportedSections['positions']> {
  return rows.flatMap((row) => {
    const [from, to] = splitDateRange(row.get('Started On'));
    const startedOn = r.date(row, 'Started On', from, 'start');
    const endedOn = r.date(row, 'Finished On', row.get('Finished On') || to, 'end');
    if (startedOn === undefined || endedOn === undefined) return [];
    if (startedOn === null) {
      r.warn(row.line, 'Started On is empty: row skipped');
      return [];
    }
    const entry = r.check(row, PositionInputSchema, {
      title: r.line(row, 'Title', LENGTHS.title) ?? '',
      company: r.line(row, 'Company Name', LENGTHS.company) ?? '',
      location: r.line(row, 'Location', LENGTHS.location),
      started_on: startedOn,
      ended_on: endedOn,
      description: r.text(row, 'Description', LENGTHS.description),
    });
    return entry ? [{ ...entry, location: entry.location ?? null, ended_on: entry.ended_on ?? null, description: entry.description ?? null }] : [];
  });
}

function readEducation(r: SectionReader, rows: CsvRow[]): NonNullable<ImportedSections['education']> {
  return rows.flatMap((row) => {
    const [from, to] = splitDateRange(row.get('Start Date'));
    const startedOn = r.date(row, 'Start Date', from, 'start');
    const endedOn = r.date(row, 'End Date', row.get('End Date') || to, 'end');
    const notes = [row.get('Activities'), row.get('Notes')].filter(Boolean).join('\n\n');
    const entry = r.check(row, EducationInputSchema, {
      school: r.line(row, 'School Name', LENGTHS.school) ?? '',
      degree: r.line(row, 'Degree Name', LENGTHS.degree),
      field: r.line(row, 'Field Of Study', LENGTHS.field),
      started_on: startedOn ?? null,
      ended_on: endedOn ?? null,
      activities: r.text(row, 'Activities', LENGTHS.activities, notes),
    });
    if (!entry) return [];
    return [{ school: entry.school, degree: entry.degree ?? null, field: entry.field ?? null, started_on: entry.started_on ?? null, ended_on: entry.ended_on ?? null, activities: entry.activities ?? null }];
  });
}

function readSkills(r: SectionReader, rows: CsvRow[]): string[] {
  return rows.flatMap((row) => {
    const name = r.line(row, 'Name', LENGTHS.skill);
    return name ? [name] : [];
  });
}

function readCertifications(r: SectionReader, rows: CsvRow[]): NonNullable<ImportedSections['certifications']> {
  return rows.flatMap((row) => {
    let url = row.get('Url') || null;
    if (url && !/^https?:\/\//i.test(url)) {
      r.warn(row.line, `Url "${url.slice(0, 50)}" is not an http(s) URL: left out`);
      url = null;
    }
    const issued = r.date(row, 'Started On', row.get('Started On'), 'start');
    const entry = r.check(row, CertificationSchema, {
      name: r.line(row, 'Name', LENGTHS.certification) ?? '',
      authority: r.line(row, 'Authority', LENGTHS.authority),
      issued_on: issued ?? null,
      url,
    });
    return entry ? [entry] : [];
  });
}

function readLanguages(r: SectionReader, rows: CsvRow[]): NonNullable<ImportedSections['languages']> {
  return rows.flatMap((row) => {
    const entry = r.check(row, LanguageSchema, { name: r.line(row, 'Name', LENGTHS.language) ?? '', proficiency: r.line(row, 'Proficiency', LENGTHS.proficiency) });
    return entry ? [entry] : [];
  });
}

function readProfile(r: SectionReader, rows: CsvRow[]): NonNullable<ImportedSections['profile']> {
  const [row, ...rest] = rows;
  if (rest.length > 0) r.warn(rest[0]!.line, 'only the first profile row is read');
  if (!row) return { headline: null, summary: null, industry: null };
  const withData = PRIVATE_PROFILE_COLUMNS.filter((c) => row.get(c));
  if (withData.length > 0) r.warn(null, `${withData.join(', ')}: not imported (Kith keeps only the headline, summary and industry from your profile)`);
  return { headline: r.line(row, 'Headline', LENGTHS.headline), summary: r.text(row, 'Summary', LENGTHS.summary), industry: r.line(row, 'Industry', LENGTHS.industry) };
}

const READERS = {
  profile: readProfile,
  positions: readPositions,
  education: readEducation,
  skills: readSkills,
  certifications: readCertifications,
  languages: readLanguages,
} satisfies Record<SectionName, (r: SectionReader, rows: CsvRow[]) => unknown>;

/**
 * Reads one CSV into its section. `section` is the one its name says, or null for a CSV uploaded under
 * another name (then its header decides). A file without the expected header row is a 400 naming it.
 */
export function readLinkedInCsv(name: string, bytes: Uint8Array, section: SectionName | null, sections: ImportedSections, warnings: ImportWarning[]): SectionName {
  const file = name.split('/').pop() || name;
  const text = decodeText(file, bytes);
  for (const candidate of section ? [section] : BY_HEADER) {
    const spec = LINKEDIN_FILES[candidate];
    const parsed = parseCsv(file, text, spec.required);
    if (!parsed.headerFound) continue;
    const reader = new SectionReader(section ? file : spec.file, warnings);
    (sections as Record<SectionName, unknown>)[candidate] = READERS[candidate](reader, parsed.rows);
    return candidate;
  }
  if (section) throw badFile(file, `has no header row with the columns ${LINKEDIN_FILES[section].required.join(', ')}`);
  throw badFile(file, `is not one of the LinkedIn export files this import reads (${Object.values(LINKEDIN_FILES).map((s) => s.file).join(', ')})`);
}
