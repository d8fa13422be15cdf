import { z } from '@hono/zod-openapi';
import { PROFESSIONAL_VISIBILITIES } from '../../db/schema/professional';
import { ID_PATTERN } from '../../lib/ids';
import { booleanQuery } from '../../lib/openapi';
import { multiLineText, singleLineText } from '../../policy/text-hygiene';

/** How long each list of a profile may grow (a long career's full LinkedIn export fits). */
export const PROFILE_LIMITS = { positions: 5000, education: 1000, skills: 500, certifications: 500, languages: 100 } as const;

/** Field lengths, LinkedIn's own where it has one (headline 220, summary 2,600, descriptions 2,000). */
export const LENGTHS = {
  headline: 220,
  summary: 2600,
  industry: 100,
  title: 100,
  company: 100,
  location: 100,
  description: 2000,
  school: 150,
  degree: 100,
  field: 100,
  activities: 2000,
  skill: 80,
  certification: 150,
  authority: 150,
  url: 300,
  language: 60,
  proficiency: 60,
} as const;

export const YEAR_MONTH = /^(19\d\d|20\d\d|2100)-(0[1-9]|1[0-2])$/;

export const YearMonthSchema = z
  .string()
  .regex(YEAR_MONTH, 'must be a month as YYYY-MM (1900-01 to 2100-12)')
  .openapi({ example: '2021-03' });

/** A single-line text (text hygiene: NFC, trimmed, no control or bidi characters): not blank, at most `max` characters. */
const line = (max: number) => singleLineText().min(1, 'must not be blank').max(max, `must be at most ${max} characters`);

/** A multi-line text of at most `max` characters. */
const paragraph = (max: number) => multiLineText().trim().max(max, `must be at most ${max} characters`);

const optional = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

const endNotBeforeStart = (entry: { started_on?: string | null; ended_on?: string | null }) =>
  !entry.started_on || !entry.ended_on || entry.ended_on >= entry.started_on;
const END_BEFORE_START = { message: 'must not be before started_on', path: ['ended_on'] };

const EntryId = z
  .string()
  .regex(ID_PATTERN, 'is not a valid id')
  .optional()
  .openapi({ description: 'Keeps the id of one of your entries; any other entry gets a new id.' });

export const PositionInputSchema = z
  .strictObject({
    id: EntryId,
    title: line(LENGTHS.title),
    company: line(LENGTHS.company),
    location: optional(line(LENGTHS.location)),
    started_on: YearMonthSchema,
    ended_on: optional(YearMonthSchema).openapi({ description: 'null or absent: the current position' }),
    description: optional(paragraph(LENGTHS.description)),
  })
  .refine(endNotBeforeStart, END_BEFORE_START)
  .openapi('PositionInput');

export const EducationInputSchema = z
  .strictObject({
    id: EntryId,
    school: line(LENGTHS.school),
    degree: optional(line(LENGTHS.degree)),
    field: optional(line(LENGTHS.field)),
    started_on: optional(YearMonthSchema),
    ended_on: optional(YearMonthSchema),
    activities: optional(paragraph(LENGTHS.activities)),
  })
  .refine(endNotBeforeStart, END_BEFORE_START)
  .openapi('EducationInput');

const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(LENGTHS.url);

export const CertificationSchema = z
  .strictObject({
    name: line(LENGTHS.certification),
    authority: optional(line(LENGTHS.authority)).transform((v) => v ?? null),
    issued_on: optional(YearMonthSchema).transform((v) => v ?? null),
    url: optional(HttpUrl).transform((v) => v ?? null),
  })
  .openapi('Certification');

export const LanguageSchema = z
  .strictObject({
    name: line(LENGTHS.language),
    proficiency: optional(line(LENGTHS.proficiency)).transform((v) => v ?? null),
  })
  .openapi('SpokenLanguage');

const list = <T extends z.ZodType>(item: T, max: number) => z.array(item).max(max, `at most ${max.toLocaleString('en')} entries`);

/** Every field of a profile; PUT replaces the whole profile with it (absent fields reset), PATCH changes the fields sent. */
const profileFields = {
  headline: optional(line(LENGTHS.headline)).openapi({ description: 'At most 220 characters; shown on your public profile to whoever may see this profile.' }),
  summary: optional(paragraph(LENGTHS.summary)),
  industry: optional(line(LENGTHS.industry)),
  open_to_work: z.boolean().optional(),
  visibility: z.enum(PROFESSIONAL_VISIBILITIES, { error: `must be one of ${PROFESSIONAL_VISIBILITIES.join(', ')}` }).optional(),
  positions: list(PositionInputSchema, PROFILE_LIMITS.positions).optional(),
  education: list(EducationInputSchema, PROFILE_LIMITS.education).optional(),
  skills: list(line(LENGTHS.skill), PROFILE_LIMITS.skills).optional(),
  certifications: list(CertificationSchema, PROFILE_LIMITS.certifications).optional(),
  languages: list(LanguageSchema, PROFILE_LIMITS.languages).optional(),
};

const inputExample = {
  headline: 'Analyst of engines, poet of numbers',
  summary: 'I write programs for machines that do not exist yet.',
  industry: 'Research',
  open_to_work: false,
  visibility: 'connections' as const,
  positions: [{ title: 'Translator and annotator', company: 'Analytical Engine Project', location: 'London', started_on: '2018-10', ended_on: '2019-09', description: 'Notes A to G.' }],
  education: [{ school: 'Home tutoring', degree: null, field: 'Mathematics', started_on: '2008-09', ended_on: '2012-06', activities: null }],
  skills: ['Mathematics', 'Algorithms'],
  certifications: [],
  languages: [{ name: 'French', proficiency: 'Full professional proficiency' }],
};

export const PutProfessionalSchema = z.strictObject(profileFields).openapi('PutProfessionalProfile', { example: inputExample });
export const PatchProfessionalSchema = z.strictObject(profileFields).openapi('PatchProfessionalProfile', { example: { headline: 'Engine analyst', open_to_work: true } });

export type ProfessionalInput = z.infer<typeof PutProfessionalSchema>;

const PositionSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    company: z.string(),
    location: z.string().nullable(),
    started_on: z.string(),
    ended_on: z.string().nullable().openapi({ description: 'null: the current position' }),
    description: z.string().nullable(),
  })
  .openapi('Position');

const EducationSchema = z
  .object({
    id: z.string(),
    school: z.string(),
    degree: z.string().nullable(),
    field: z.string().nullable(),
    started_on: z.string().nullable(),
    ended_on: z.string().nullable(),
    activities: z.string().nullable(),
  })
  .openapi('Education');

const profileExample = {
  ...inputExample,
  positions: inputExample.positions.map((p) => ({ id: '01JC6ZB1B2C3D4E5F6G7H8J9K0', ...p })),
  education: inputExample.education.map((e) => ({ id: '01JC6ZB2B2C3D4E5F6G7H8J9K0', ...e })),
};

export const ProfessionalProfileSchema = z
  .object({
    headline: z.string().nullable(),
    summary: z.string().nullable(),
    industry: z.string().nullable(),
    open_to_work: z.boolean(),
    positions: z.array(PositionSchema),
    education: z.array(EducationSchema),
    skills: z.array(z.string()),
    certifications: z.array(
      z.object({ name: z.string(), authority: z.string().nullable(), issued_on: z.string().nullable(), url: z.string().nullable() }).openapi('CertificationOut'),
    ),
    languages: z.array(z.object({ name: z.string(), proficiency: z.string().nullable() }).openapi('SpokenLanguageOut')),
    visibility: z.enum(PROFESSIONAL_VISIBILITIES),
  })
  .openapi('ProfessionalProfile', { example: profileExample });

export type ProfessionalProfile = z.infer<typeof ProfessionalProfileSchema>;

export const IMPORT_MODES = ['merge', 'replace'] as const;

export const ImportQuerySchema = z.object({
  mode: z
    .enum(IMPORT_MODES, { error: 'must be merge or replace' })
    .default('merge')
    .openapi({ param: { name: 'mode', in: 'query' }, example: 'merge', description: '`merge` (default) adds what you do not have yet; `replace` swaps in every section the upload contains' }),
  dry_run: booleanQuery('dry_run', true).openapi({ description: 'true: answer what the import would do and change nothing' }),
});

const countsExample = { positions: 2, education: 1, skills: 12, certifications: 0, languages: 2 };

export const ImportResultSchema = z
  .object({
    profile: ProfessionalProfileSchema,
    imported: z
      .object({
        positions: z.number().int(),
        education: z.number().int(),
        skills: z.number().int(),
        certifications: z.number().int(),
        languages: z.number().int(),
      })
      .openapi({ description: 'Entries the import added (merge) or put in place (replace), per section' }),
    warnings: z.array(
      z
        .object({ file: z.string(), line: z.number().int().nullable(), message: z.string() })
        .openapi('ImportWarning', { example: { file: 'Rich_Media.csv', line: null, message: 'not a profile file: ignored' } }),
    ),
    dry_run: z.boolean(),
  })
  .openapi('LinkedInImportResult', {
    example: {
      profile: profileExample,
      imported: countsExample,
      warnings: [{ file: 'Positions.csv', line: 7, message: 'Started On "sometime" is not a date (Jan 2020, 2020 or 2020-01): row skipped' }],
      dry_run: false,
    },
  });

export const importBody = {
  required: true,
  description:
    'A LinkedIn data export: the ZIP archive (at most 20 MB, 100 MB unpacked, 1,000 entries) or one of its CSV files (Profile.csv, Positions.csv, Education.csv, Skills.csv, Certifications.csv, Languages.csv; those read hold at most 5 MB together and 10,000 rows each), as the multipart part `file` or as the raw body (`application/zip`, `text/csv`).',
  content: {
    'multipart/form-data': {
      schema: { type: 'object' as const, required: ['file'], properties: { file: { type: 'string' as const, format: 'binary' } } },
      example: { file: '(Basic_LinkedInDataExport_11-21-2026.zip)' },
    },
    'application/zip': { schema: { type: 'string' as const, format: 'binary' }, example: '(zip bytes)' },
    'text/csv': { schema: { type: 'string' as const }, example: 'Company Name,Title,Description,Location,Started On,Finished On\nAcme,Engineer,,London,Jan 2020,' },
  },
};
