import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { UserRefParamSchema } from '../users/users.schemas';
import { ImportQuerySchema, ImportResultSchema, importBody, PatchProfessionalSchema, ProfessionalProfileSchema, PutProfessionalSchema } from './professional.schemas';

const tags = ['Professional'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };

const RULES =
  'Dates are `YYYY-MM` (`ended_on: null` = current) and an end is never before its start. Lists keep the order you send. Limits: headline 220 characters, summary 2,600, descriptions 2,000; 5,000 positions, 1,000 education entries, 500 skills (each once, compared case-insensitively), 500 certifications, 100 languages. `visibility`: `public` (everyone; for a private account only its friends and followers), `connections` (your friends and followers) or `private` (you alone); it decides who sees this profile and the headline on your public profile. JSON bodies up to 1 MB.';

export const getOwnProfessional = createRoute({
  method: 'get',
  path: '/me/professional',
  tags,
  summary: 'Your professional profile',
  description: 'An empty profile (visibility `public`) until you write one.',
  ...authed,
  responses: { 200: jsonContent(ProfessionalProfileSchema, 'Your professional profile'), ...commonErrors, ...errors[401] },
});

export const putOwnProfessional = createRoute({
  method: 'put',
  path: '/me/professional',
  tags,
  summary: 'Replace your professional profile',
  description: `Fields you leave out are reset (empty lists, null texts, open_to_work false), except \`visibility\`, which is kept unless sent. An entry's \`id\` is kept when it names one of your entries; others get new ids. ${RULES}`,
  ...authed,
  request: { body: jsonBody(PutProfessionalSchema) },
  responses: { 200: jsonContent(ProfessionalProfileSchema, 'The saved profile'), ...commonErrors, ...errors[401], ...errors[413] },
});

export const patchOwnProfessional = createRoute({
  method: 'patch',
  path: '/me/professional',
  tags,
  summary: 'Change part of your professional profile',
  description: `Only the fields sent change; a list sent replaces that whole list, \`null\` clears a text. ${RULES}`,
  ...authed,
  request: { body: jsonBody(PatchProfessionalSchema) },
  responses: { 200: jsonContent(ProfessionalProfileSchema, 'The saved profile'), ...commonErrors, ...errors[401], ...errors[413] },
});

export const getUserProfessional = createRoute({
  method: 'get',
  path: '/users/{id_or_username}/professional',
  tags,
  summary: "Someone's professional profile",
  description:
    "200 when its visibility lets you see it: `public` (a private account's only to its friends and followers), `connections` (the owner's friends and followers), `private` (the owner alone). 404 otherwise, when the user has none, or when either of you blocks the other.",
  security: [{}, ...bearerSecurity],
  middleware: [optionalAuth],
  request: { params: UserRefParamSchema },
  responses: { 200: jsonContent(ProfessionalProfileSchema, 'The profile'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const importLinkedIn = createRoute({
  method: 'post',
  path: '/me/professional/import/linkedin',
  tags,
  summary: 'Import a LinkedIn data export',
  description: [
    'Reads Profile.csv (headline, summary and industry only: names, addresses, birth dates and other contact data are never stored), Positions.csv, Education.csv, Skills.csv, Certifications.csv and Languages.csv, in any folder of the archive; every other file is ignored with a warning.',
    'A `Notes:` preamble before the header row, a UTF-8 byte-order mark and quoted fields with line breaks are fine. Dates may be `Jan 2020`, `2020` (January as a start, December as an end), `2020-01` or a range `Jan 2020 - Present`.',
    'Each row is checked as PUT would check it; a row that fails is skipped and reported in `warnings` with its file and line. `mode=merge` (default) adds the entries you do not have yet (positions by title, company and start; education by school, degree and start; skills and languages by name; certifications by name and authority) and fills headline, summary and industry only where yours are empty; `mode=replace` puts each section the upload contains in place of yours.',
    'Everything is read and checked before anything is written, then written in one transaction: a failure changes nothing. `dry_run=true` answers the same and changes nothing.',
    'Errors: over 20 MB, over 100 MB unpacked, over 1,000 entries, the CSV files read holding over 5 MB together, or one of them over 10,000 rows → 413 (the last two naming the file); neither a ZIP nor a CSV → 415; a CSV without its header row, text that is not UTF-8, an archive with none of these files, or more entries than a profile holds → 400 naming the file.',
  ].join(' '),
  ...authed,
  request: { query: ImportQuerySchema, body: importBody },
  responses: {
    200: jsonContent(ImportResultSchema, 'What was (or, with dry_run, would be) imported'),
    ...commonErrors,
    ...errors[401],
    ...errors[413],
    ...errors[415],
  },
});
