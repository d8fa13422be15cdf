import type { Context } from 'hono';
import { mapRow, type D1Client } from '../../db/client';
import {
  professionalEducation,
  professionalPositions,
  professionalProfiles,
  type ProfessionalVisibility,
} from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { jsonChunks } from '../../lib/json-rows';
import type { AppEnv } from '../../lib/types';
import { loadViewerRelations } from '../graph/relations';
import { findVisibleUser } from '../users/users.service';
import type { ProfessionalInput, ProfessionalProfile } from './professional.schemas';

type Position = ProfessionalProfile['positions'][number];
type Education = ProfessionalProfile['education'][number];

/** A profile about to be saved: entries without an id get one when it is written. */
export type ProfileDraft = Omit<ProfessionalProfile, 'positions' | 'education'> & {
  positions: (Omit<Position, 'id'> & { id?: string })[];
  education: (Omit<Education, 'id'> & { id?: string })[];
};

/** The profile of someone who never wrote one. */
export const EMPTY_PROFILE: ProfessionalProfile = {
  headline: null,
  summary: null,
  industry: null,
  open_to_work: false,
  positions: [],
  education: [],
  skills: [],
  certifications: [],
  languages: [],
  visibility: 'public',
};

/**
 * Who may see a professional profile (and its headline on the public profile): its owner always;
 * `private` nobody else; `connections` the owner's friends and followers; `public` everyone, except
 * that a private account's profile reaches only its connections, as its posts do. Blocks are decided
 * before this (they make the whole account invisible).
 */
export function professionalVisibleTo(visibility: ProfessionalVisibility, ownerPrivate: boolean, viewer: { self: boolean; friend: boolean; following: boolean }): boolean {
  if (viewer.self) return true;
  if (visibility === 'private') return false;
  const connected = viewer.friend || viewer.following;
  return visibility === 'public' && !ownerPrivate ? true : connected;
}

/** A user's profile (one round trip); `exists` is false for someone who never wrote one. */
export async function loadProfile(d1: D1Client, userId: string): Promise<{ exists: boolean; profile: ProfessionalProfile }> {
  const [profiles, positions, education] = await d1.batch<Record<string, unknown>>([
    d1.prepare('SELECT * FROM professional_profiles WHERE user_id = ?1').bind(userId),
    d1.prepare('SELECT * FROM professional_positions WHERE user_id = ?1 ORDER BY ord').bind(userId),
    d1.prepare('SELECT * FROM professional_education WHERE user_id = ?1 ORDER BY ord').bind(userId),
  ]);
  const raw = profiles?.results[0];
  if (!raw) return { exists: false, profile: EMPTY_PROFILE };
  const row = mapRow(professionalProfiles, raw);
  return {
    exists: true,
    profile: {
      headline: row.headline,
      summary: row.summary,
      industry: row.industry,
      open_to_work: row.openToWork,
      positions: (positions?.results ?? []).map((r) => {
        const p = mapRow(professionalPositions, r);
        return { id: p.id, title: p.title, company: p.company, location: p.location, started_on: p.startedOn, ended_on: p.endedOn, description: p.description };
      }),
      education: (education?.results ?? []).map((r) => {
        const e = mapRow(professionalEducation, r);
        return { id: e.id, school: e.school, degree: e.degree, field: e.field, started_on: e.startedOn, ended_on: e.endedOn, activities: e.activities };
      }),
      skills: row.skills,
      certifications: row.certifications,
      languages: row.languages,
      visibility: row.visibility,
    },
  };
}

/** Skills are one list of names, each once (compared case-insensitively), in the order given. */
export function uniqueSkills(skills: string[]): string[] {
  const seen = new Set<string>();
  return skills.filter((s) => {
    const key = s.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Applies a PUT (every field; absent ones reset, except visibility) or a PATCH (the fields sent) to a profile. */
export function applyInput(before: ProfessionalProfile, input: ProfessionalInput, replaceAll: boolean): ProfileDraft {
  const base = replaceAll ? { ...EMPTY_PROFILE, visibility: before.visibility } : before;
  const pick = <K extends keyof ProfessionalInput & keyof ProfessionalProfile>(key: K) => (input[key] !== undefined ? input[key] : base[key]);
  return {
    headline: pick('headline') ?? null,
    summary: pick('summary') || null,
    industry: pick('industry') ?? null,
    open_to_work: pick('open_to_work') ?? false,
    // Never widened by omission: a PUT without `visibility` keeps the current one.
    visibility: input.visibility ?? before.visibility,
    positions: (input.positions ?? base.positions).map((p) => ({
      ...(p.id ? { id: p.id } : {}),
      title: p.title,
      company: p.company,
      location: p.location ?? null,
      started_on: p.started_on,
      ended_on: p.ended_on ?? null,
      description: p.description || null,
    })),
    education: (input.education ?? base.education).map((e) => ({
      ...(e.id ? { id: e.id } : {}),
      school: e.school,
      degree: e.degree ?? null,
      field: e.field ?? null,
      started_on: e.started_on ?? null,
      ended_on: e.ended_on ?? null,
      activities: e.activities || null,
    })),
    skills: uniqueSkills(pick('skills')),
    certifications: pick('certifications'),
    languages: pick('languages'),
  };
}

/** Gives every entry an id: its own when it names one of the owner's entries (once), else a new one. */
function withIds<T extends { id?: string }>(entries: T[], existing: { id: string }[]): (T & { id: string })[] {
  const known = new Set(existing.map((e) => e.id));
  const now = Date.now();
  return entries.map((entry) => {
    const keep = entry.id !== undefined && known.delete(entry.id);
    return { ...entry, id: keep ? entry.id! : newId(now) };
  });
}

/**
 * Statements that replace a user's list in `table` with `rows` ([id, ord, ...columns], as JSON): a
 * delete, then inserts of many rows each.
 */
function rewriteList(d1: D1Client, table: string, columns: string[], userId: string, rows: unknown[][]): D1PreparedStatement[] {
  const values = columns.map((_, i) => `value ->> ${i + 2}`).join(', ');
  return [
    d1.prepare(`DELETE FROM ${table} WHERE user_id = ?1`).bind(userId),
    ...jsonChunks(rows).map((chunk) =>
      d1.prepare(`INSERT INTO ${table} (id, user_id, ord, ${columns.join(', ')}) SELECT value ->> 0, ?1, value ->> 1, ${values} FROM json_each(?2)`).bind(userId, chunk),
    ),
  ];
}

/**
 * The statements that make `draft` the user's profile, for one batch (one transaction, so a profile is
 * never half-written), and the profile as it will then read. Lists are rewritten only when they changed
 * hands (`lists`), each as a delete and inserts from JSON.
 */
export function saveProfileStatements(
  d1: D1Client,
  userId: string,
  before: ProfessionalProfile,
  draft: ProfileDraft,
  lists: { positions: boolean; education: boolean },
): { statements: D1PreparedStatement[]; profile: ProfessionalProfile } {
  const positions = lists.positions ? withIds(draft.positions, before.positions) : before.positions;
  const education = lists.education ? withIds(draft.education, before.education) : before.education;
  const statements = [
    d1
      .prepare(
        `INSERT INTO professional_profiles (user_id, headline, summary, industry, open_to_work, visibility, skills, certifications, languages, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (user_id) DO UPDATE SET headline = excluded.headline, summary = excluded.summary, industry = excluded.industry,
           open_to_work = excluded.open_to_work, visibility = excluded.visibility, skills = excluded.skills,
           certifications = excluded.certifications, languages = excluded.languages, updated_at = excluded.updated_at`,
      )
      .bind(
        userId,
        draft.headline,
        draft.summary,
        draft.industry,
        draft.open_to_work ? 1 : 0,
        draft.visibility,
        JSON.stringify(draft.skills),
        JSON.stringify(draft.certifications),
        JSON.stringify(draft.languages),
        Date.now(),
      ),
  ];
  if (lists.positions) {
    const rows = positions.map((p, ord) => [p.id, ord, p.title, p.company, p.location, p.started_on, p.ended_on, p.description]);
    statements.push(...rewriteList(d1, 'professional_positions', ['title', 'company', 'location', 'started_on', 'ended_on', 'description'], userId, rows));
  }
  if (lists.education) {
    const rows = education.map((e, ord) => [e.id, ord, e.school, e.degree, e.field, e.started_on, e.ended_on, e.activities]);
    statements.push(...rewriteList(d1, 'professional_education', ['school', 'degree', 'field', 'started_on', 'ended_on', 'activities'], userId, rows));
  }
  const { positions: _p, education: _e, ...scalars } = draft;
  return { statements, profile: { ...scalars, positions, education } };
}

/** PUT (replaceAll) or PATCH of the caller's profile, written in one batch. */
export async function updateOwnProfile(c: Context<AppEnv>, userId: string, input: ProfessionalInput, replaceAll: boolean): Promise<ProfessionalProfile> {
  const { profile: before } = await loadProfile(c.var.d1, userId);
  const draft = applyInput(before, input, replaceAll);
  const lists = { positions: replaceAll || input.positions !== undefined, education: replaceAll || input.education !== undefined };
  const { statements, profile } = saveProfileStatements(c.var.d1, userId, before, draft, lists);
  await c.var.d1.batch(statements);
  return profile;
}

/** Someone's profile as the caller may see it: 404 when there is none, or when they may not see it. */
export async function getVisibleProfile(c: Context<AppEnv>, ref: string): Promise<ProfessionalProfile> {
  const owner = await findVisibleUser(c, ref);
  const viewerId = c.get('auth')?.userId ?? null;
  const [rel, { exists, profile }] = await Promise.all([loadViewerRelations(c.var.d1, viewerId, [owner.id]), loadProfile(c.var.d1, owner.id)]);
  const viewer = { self: viewerId === owner.id, friend: rel.friends.has(owner.id), following: rel.following.has(owner.id) };
  if (!exists || !professionalVisibleTo(profile.visibility, owner.visibility === 'private', viewer)) {
    throw new ApiError('not_found', 'No such professional profile.');
  }
  return profile;
}
