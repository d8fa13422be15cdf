import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { timestampMs } from './columns';
import { users } from './users';

export const PROFESSIONAL_VISIBILITIES = ['public', 'connections', 'private'] as const;
export type ProfessionalVisibility = (typeof PROFESSIONAL_VISIBILITIES)[number];

export interface Certification {
  name: string;
  authority: string | null;
  issued_on: string | null;
  url: string | null;
}

export interface SpokenLanguage {
  name: string;
  proficiency: string | null;
}

/**
 * A user's professional profile: the scalar fields and the short lists (skills, certifications,
 * languages, each kept in order as JSON). Positions and education, which can be long, have their own
 * tables. Dates are `YYYY-MM` text, so they compare as strings.
 */
export const professionalProfiles = sqliteTable('professional_profiles', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  headline: text('headline'),
  summary: text('summary'),
  industry: text('industry'),
  openToWork: integer('open_to_work', { mode: 'boolean' }).notNull().default(false),
  visibility: text('visibility', { enum: PROFESSIONAL_VISIBILITIES }).notNull().default('public'),
  skills: text('skills', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
  certifications: text('certifications', { mode: 'json' }).$type<Certification[]>().notNull().default(sql`'[]'`),
  languages: text('languages', { mode: 'json' }).$type<SpokenLanguage[]>().notNull().default(sql`'[]'`),
  updatedAt: timestampMs('updated_at').notNull().$defaultFn(() => new Date()),
});

const owner = () =>
  text('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' });

/** Positions held, in the order the user gave (`ord`); `ended_on` null = current. */
export const professionalPositions = sqliteTable(
  'professional_positions',
  {
    id: text('id').primaryKey(),
    userId: owner(),
    ord: integer('ord').notNull(),
    title: text('title').notNull(),
    company: text('company').notNull(),
    location: text('location'),
    startedOn: text('started_on').notNull(),
    endedOn: text('ended_on'),
    description: text('description'),
  },
  (t) => [index('professional_positions_user_idx').on(t.userId, t.ord)],
);

/** Schools attended, in the order the user gave (`ord`). */
export const professionalEducation = sqliteTable(
  'professional_education',
  {
    id: text('id').primaryKey(),
    userId: owner(),
    ord: integer('ord').notNull(),
    school: text('school').notNull(),
    degree: text('degree'),
    field: text('field'),
    startedOn: text('started_on'),
    endedOn: text('ended_on'),
    activities: text('activities'),
  },
  (t) => [index('professional_education_user_idx').on(t.userId, t.ord)],
);

export type ProfessionalProfileRow = typeof professionalProfiles.$inferSelect;
export type PositionRow = typeof professionalPositions.$inferSelect;
export type EducationRow = typeof professionalEducation.$inferSelect;
