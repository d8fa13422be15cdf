import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';

export type { TestUser };

/** A syntactically valid id that points at nothing. */
export const UNKNOWN_ID = '01JC6Z1W3R2J4D5E6F7G8H9J0K';

/**
 * A fresh account with a site role. The role is set in D1 before the account's first authenticated
 * request, so no isolate has cached it as a plain user (as after `npm run admin -- grant`).
 */
export async function createStaff(role: 'moderator' | 'admin' = 'moderator'): Promise<TestUser> {
  const user = await createUser();
  await env.DB.prepare('UPDATE users SET role = ?2 WHERE id = ?1').bind(user.id, role).run();
  return user;
}

/** A word no other test uses, for keyword rules that must not catch anyone else's text. */
export function nonsenseWord(prefix = 'zq'): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let word = prefix;
  for (let i = 0; i < 8; i++) word += letters[Math.floor(Math.random() * letters.length)];
  return word;
}

export const reportRaw = (user: TestUser, body: unknown) => call('/reports', { token: user.accessToken, body });

/** Files a report and returns it (201 by default). */
export async function report(user: TestUser, body: Record<string, unknown>, status: 200 | 201 = 201): Promise<any> {
  return expectStatus(await reportRaw(user, { category: 'harassment', ...body }), status);
}

export const resolveRaw = (staff: TestUser, id: string, body: unknown) => call(`/admin/reports/${id}/resolve`, { token: staff.accessToken, body });

export async function resolve(staff: TestUser, id: string, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await resolveRaw(staff, id, body), 200);
}

export const actionRaw = (staff: TestUser, userId: string, body: unknown) => call(`/admin/users/${userId}/actions`, { token: staff.accessToken, body });

/** Applies an account action (200) and returns the account state. */
export async function act(staff: TestUser, target: TestUser, action: string, extra: Record<string, unknown> = {}): Promise<any> {
  return expectStatus(await actionRaw(staff, target.id, { action, reason: `test ${action}`, ...extra }), 200);
}

/** Adds a keyword rule (201). */
export async function addRule(staff: TestUser, pattern: string, action: 'reject' | 'hold' | 'flag', whole_word = true): Promise<any> {
  return expectStatus(await call('/admin/keyword_rules', { token: staff.accessToken, body: { pattern, action, whole_word } }), 201);
}

/** The open automatic (reporter: null) report about one subject in the staff queue, if any. */
export async function autoReportAbout(staff: TestUser, subjectId: string): Promise<any> {
  const page = await expectStatus(await call('/admin/reports?limit=100', { token: staff.accessToken }), 200);
  return page.data.find((r: any) => r.subject_id === subjectId && r.reporter === null);
}

/** Reads the staff view of one report. */
export async function staffReport(staff: TestUser, id: string): Promise<any> {
  return expectStatus(await call(`/admin/reports/${id}`, { token: staff.accessToken }), 200);
}

/** Asserts a 422 content rejection naming `field`. */
export async function expectRejected(res: Response, field: string): Promise<void> {
  const body = await expectProblem(res, 422, field);
  expect(body.type).toMatch(/\/content-rejected$/);
}

/** Audit entries of one action about one subject, oldest first (read straight from D1). */
export async function auditEntries(action: string, subjectId?: string): Promise<any[]> {
  const { results } = await env.DB.prepare('SELECT * FROM audit_log WHERE action = ?1 AND (?2 IS NULL OR subject_id = ?2) ORDER BY seq')
    .bind(action, subjectId ?? null)
    .all<any>();
  return results.map((r) => ({ ...r, data: JSON.parse(r.data) }));
}
