import type { D1Client } from '../db/client';
import type { Context } from 'hono';
import type { AutoReason, KeywordRuleAction } from '../db/schema';
import { ApiError } from '../lib/errors';
import type { AppEnv } from '../lib/types';
import { compileKeywords, type KeywordMatcher } from './keyword-matcher';

/**
 * Staff keyword rules: every write of user text passes here, next to where it is validated (posts,
 * comments, messages over REST and the socket, bios, display names, community names and descriptions,
 * conversation titles). `reject` refuses the write (422, problem type `/content-rejected`, field
 * named); `hold` keeps a post or comment visible only to its author and staff until a moderator
 * releases it, with an open report (`reporter: null`); `flag` publishes and opens such a report.
 * Where text cannot wait unseen (a chat message is live; a profile or community field has no author-only
 * view), a hold refuses the write like a reject.
 *
 * The rule set is compiled once per isolate and kept; every RECHECK_MS the isolate compares the rule
 * set's version (a counter bumped in the same batch as every rule change) and recompiles when it moved.
 * The isolate that changes a rule drops its copy at once; others follow within RECHECK_MS.
 */

/** Where a text is going: posts and comments can be held for review, the rest cannot. */
export type TextSurface = 'post' | 'comment' | 'message' | 'profile' | 'community' | 'conversation';

export interface TextField {
  field: string;
  text: string | null | undefined;
}

export interface RuleHit {
  id: string;
  pattern: string;
  action: KeywordRuleAction;
}

export type TextVerdict =
  | { action: 'allow' }
  | { action: 'reject'; field: string; rule: RuleHit }
  | { action: 'hold' | 'flag'; field: string; reason: AutoReason };

export const RECHECK_MS = 10_000;
const STRENGTH: Record<KeywordRuleAction, number> = { flag: 1, hold: 2, reject: 3 };

interface RuleSet {
  version: number;
  matcher: KeywordMatcher<RuleHit>;
  checkedAt: number;
}

let current: RuleSet | null = null;

/** Forgets this isolate's compiled rule set (called by whoever changes a rule). */
export function invalidateRuleSet(): void {
  current = null;
}

async function loadRuleSet(db: D1Client): Promise<RuleSet> {
  const [version, rules] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT value FROM site_counters WHERE key = 'keyword_rules_version'"),
    db.prepare('SELECT id, pattern, whole_word, action FROM keyword_rules ORDER BY id'),
  ]);
  const v = (version?.results[0]?.value as number | undefined) ?? 0;
  const matcher = compileKeywords(
    (rules?.results ?? []).map((r) => ({
      key: { id: r.id as string, pattern: r.pattern as string, action: r.action as KeywordRuleAction },
      keyword: r.pattern as string,
      wholeWord: r.whole_word === 1,
    })),
  );
  return { version: v, matcher, checkedAt: Date.now() };
}

async function ruleSet(db: D1Client): Promise<KeywordMatcher<RuleHit>> {
  if (current && Date.now() - current.checkedAt < RECHECK_MS) return current.matcher;
  if (current) {
    // Most checks find the version unchanged: one small read, and the compiled set is kept.
    const row = await db.prepare("SELECT value FROM site_counters WHERE key = 'keyword_rules_version'").first<{ value: number }>();
    if ((row?.value ?? 0) === current.version) {
      current.checkedAt = Date.now();
      return current.matcher;
    }
  }
  // Each request loads for itself: a request must never await a promise another request made (workerd
  // would cancel it as hung once that request is gone). A reload happens once per rule change anyway.
  current = await loadRuleSet(db);
  return current.matcher;
}

/**
 * The strongest rule any of the fields trips (reject > hold > flag), or allow. For surfaces that
 * cannot hold, a hold is a reject. Usable outside a request (the ConversationRoom calls it).
 */
export async function evaluateText(db: D1Client, fields: TextField[], surface: TextSurface): Promise<TextVerdict> {
  const present = fields.filter((f): f is { field: string; text: string } => typeof f.text === 'string' && f.text.length > 0);
  if (present.length === 0) return { action: 'allow' };
  const matcher = await ruleSet(db);
  if (matcher.size === 0) return { action: 'allow' };
  let best: { field: string; rule: RuleHit } | null = null;
  for (const { field, text } of present) {
    for (const rule of matcher.match(text)) {
      if (!best || STRENGTH[rule.action] > STRENGTH[best.rule.action]) best = { field, rule };
    }
  }
  if (!best) return { action: 'allow' };
  const canHold = surface === 'post' || surface === 'comment';
  if (best.rule.action === 'reject' || (best.rule.action === 'hold' && !canHold)) return { action: 'reject', field: best.field, rule: best.rule };
  return {
    action: best.rule.action,
    field: best.field,
    reason: { kind: 'keyword_rule', action: best.rule.action, rule_id: best.rule.id, pattern: best.rule.pattern, field: best.field },
  };
}

/** The 422 a rejected text gets, naming the field (the rule itself is not revealed). */
export function contentRejected(field: string): ApiError {
  const message = 'contains a word or phrase that is not allowed here';
  return new ApiError('content_rejected', `${field}: ${message}`, { errors: [{ field, message }] });
}

/** {@link evaluateText} in a request: throws the 422 for a reject, returns the verdict otherwise. */
export async function screenText(c: Context<AppEnv>, fields: TextField[], surface: TextSurface): Promise<Exclude<TextVerdict, { action: 'reject' }>> {
  const verdict = await evaluateText(c.var.d1, fields, surface);
  if (verdict.action === 'reject') throw contentRejected(verdict.field);
  return verdict;
}
