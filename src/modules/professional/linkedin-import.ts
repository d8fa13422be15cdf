import type { Context } from 'hono';
import { ApiError } from '../../lib/errors';
import type { AppEnv } from '../../lib/types';
import { type Upload, unpackUpload } from './linkedin-archive';
import { type ImportedSections, type ImportWarning, LINKEDIN_FILES, readLinkedInCsv, type SectionName, sectionOfFile } from './linkedin-csv';
import { PROFILE_LIMITS, type ProfessionalProfile } from './professional.schemas';
import { loadProfile, type ProfileDraft, saveProfileStatements, uniqueSkills } from './professional.service';

type ListSection = Exclude<SectionName, 'profile'>;
type Counts = Record<ListSection, number>;

/** What makes two entries the same one, so a merge adds each at most once. */
const IDENTITY: { [K in ListSection]: (entry: ProfileDraft[K][number]) => string } = {
  positions: (p) => [p.title, p.company, p.started_on].join('\u0000').toLowerCase(),
  education: (e) => [e.school, e.degree ?? '', e.started_on ?? ''].join('\u0000').toLowerCase(),
  skills: (s) => s.toLowerCase(),
  certifications: (c) => [c.name, c.authority ?? ''].join('\u0000').toLowerCase(),
  languages: (l) => l.name.toLowerCase(),
};

const LISTS: ListSection[] = ['positions', 'education', 'skills', 'certifications', 'languages'];

/** `entries` without repeats (by identity), keeping the first of each and skipping those in `existing`. */
function distinct<T>(entries: T[], identity: (entry: T) => string, existing: T[] = []): T[] {
  const seen = new Set(existing.map(identity));
  return entries.filter((entry) => {
    const key = identity(entry);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The profile an import leads to. `merge` adds the entries you do not have yet (by identity) after
 * yours and fills headline, summary and industry only where yours are empty; `replace` puts every
 * section the upload contains in place of yours (a file present but empty empties its section) and
 * leaves the others alone. Visibility and open_to_work are never imported.
 */
export function combine(before: ProfessionalProfile, sections: ImportedSections, mode: 'merge' | 'replace'): { draft: ProfileDraft; imported: Counts } {
  const draft: ProfileDraft = { ...before };
  if (sections.profile) {
    for (const key of ['headline', 'summary', 'industry'] as const) {
      const value = sections.profile[key];
      if (mode === 'replace') draft[key] = value;
      else draft[key] = before[key] ?? value;
    }
  }
  const imported = { positions: 0, education: 0, skills: 0, certifications: 0, languages: 0 };
  for (const list of LISTS) {
    const incoming = sections[list] as ProfileDraft[typeof list] | undefined;
    if (!incoming) continue;
    const identity = IDENTITY[list] as (entry: unknown) => string;
    const current = before[list] as unknown[];
    const added = mode === 'replace' ? distinct(incoming as unknown[], identity) : distinct(incoming as unknown[], identity, current);
    (draft as Record<ListSection, unknown[]>)[list] = mode === 'replace' ? added : [...current, ...added];
    imported[list] = added.length;
  }
  draft.skills = uniqueSkills(draft.skills);
  return { draft, imported };
}

export interface ImportOutcome {
  profile: ProfessionalProfile;
  imported: Counts;
  warnings: ImportWarning[];
  dry_run: boolean;
}

/**
 * Imports a LinkedIn export into the caller's profile: every file is read and checked before anything
 * is written, and the result is written in one batch (one transaction), so a failure leaves the
 * profile as it was. `dryRun` answers the same without writing.
 */
export async function importLinkedIn(c: Context<AppEnv>, userId: string, upload: Upload, mode: 'merge' | 'replace', dryRun: boolean): Promise<ImportOutcome> {
  const { files, ignored } = unpackUpload(upload, (name) => sectionOfFile(name) !== null);
  const warnings: ImportWarning[] = ignored.map((name) => ({ file: name, line: null, message: 'not a file this import reads: ignored' }));
  const sections: ImportedSections = {};
  const sources: Partial<Record<SectionName, string>> = {};
  for (const file of files) {
    // A lone CSV under another name is recognised by its header row.
    const section = readLinkedInCsv(file.name, file.bytes, sectionOfFile(file.name), sections, warnings);
    sources[section] = file.name.split('/').pop()!;
  }
  if (Object.keys(sections).length === 0) {
    const names = Object.values(LINKEDIN_FILES).map((s) => s.file).join(', ');
    throw ApiError.field('file', `the archive holds none of ${names}`);
  }

  const { profile: before } = await loadProfile(c.var.d1, userId);
  const { draft, imported } = combine(before, sections, mode);
  for (const list of LISTS) {
    const count = (draft[list] as unknown[]).length;
    if (count > PROFILE_LIMITS[list]) {
      const file = sources[list] ?? LINKEDIN_FILES[list].file;
      throw ApiError.field('file', `${file}: the profile would hold ${count.toLocaleString('en')} ${list}, more than the ${PROFILE_LIMITS[list].toLocaleString('en')} allowed`);
    }
  }
  const lists = { positions: sections.positions !== undefined, education: sections.education !== undefined };
  const { statements, profile } = saveProfileStatements(c.var.d1, userId, before, draft, lists);
  if (!dryRun) await c.var.d1.batch(statements);
  return { profile, imported, warnings, dry_run: dryRun };
}
