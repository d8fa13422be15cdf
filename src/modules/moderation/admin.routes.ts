import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import {
  AccountActionSchema,
  AccountStateSchema,
  CreateKeywordRuleSchema,
  KeywordRulePageSchema,
  KeywordRuleSchema,
  ReportIdParamSchema,
  ReportQueueQuerySchema,
  ResolveReportSchema,
  RuleIdParamSchema,
  SetRoleSchema,
  StaffReportPageSchema,
  StaffReportSchema,
  StatsSchema,
  UserIdParamSchema,
} from './moderation.schemas';
import { requireStaff } from '../../middleware/require-staff';

const tags = ['Admin'];
/** Every /admin route: staff only (moderators and admins), or admins only. Other modules' /admin routes use these too. */
export const staff = { security: bearerSecurity, middleware: [requireStaff('moderator')] };
export const adminsOnly = { security: bearerSecurity, middleware: [requireStaff('admin')] };
export const guarded = { ...commonErrors, ...errors[401], ...errors[403] };

export const listQueue = createRoute({
  method: 'get',
  path: '/admin/reports',
  tags,
  summary: 'The report queue (staff)',
  description: 'One `status` (default open), oldest first; filter by `category` and `subject_type`. Automatic reports (keyword rules, spam holds) have `reporter: null` and say why in `auto`.',
  ...staff,
  request: { query: ReportQueueQuerySchema },
  responses: { 200: jsonContent(StaffReportPageSchema, 'A page of reports'), ...guarded },
});

export const getReport = createRoute({
  method: 'get',
  path: '/admin/reports/{id}',
  tags,
  summary: 'One report (staff)',
  ...staff,
  request: { params: ReportIdParamSchema },
  responses: { 200: jsonContent(StaffReportSchema, 'The report'), ...guarded, ...errors[404] },
});

export const assignReport = createRoute({
  method: 'post',
  path: '/admin/reports/{id}/assign',
  tags,
  summary: 'Take a report (staff)',
  description: 'Assigns the open report to you (taking it over from whoever had it). 409 once resolved.',
  ...staff,
  request: { params: ReportIdParamSchema },
  responses: { 200: jsonContent(StaffReportSchema, 'The report, assigned to you'), ...guarded, ...errors[404], ...errors[409] },
});

export const resolveReport = createRoute({
  method: 'post',
  path: '/admin/reports/{id}/resolve',
  tags,
  summary: 'Resolve a report (staff)',
  description: [
    '`none` dismisses it; anything else actions it and is applied at once: `remove_content` deletes the post or comment, or tombstones the message for everyone (and the notifications about it are forgotten: a post\'s `new_post`, `wall_post` and those of its comments, a comment\'s `post_comment`, `comment_reply` and `mention` and its replies\', a message\'s `new_message`);',
    '`warn` / `silence` / `suspend` act on the account behind the subject, as `POST /admin/users/{id}/actions` does (`duration_hours` 1..8,760 for silence and suspend; they lift themselves).',
    'Dismissing the automatic report of held content releases it (its audience is notified then). A moderator may not act on an admin (403). 409 once resolved.',
    'The report, the action and the audit entries commit together; the reporter then gets `report_resolved`.',
  ].join(' '),
  ...staff,
  request: { params: ReportIdParamSchema, body: jsonBody(ResolveReportSchema) },
  responses: { 200: jsonContent(StaffReportSchema, 'The resolved report'), ...guarded, ...errors[404], ...errors[409], ...errors[503] },
});

export const getAccount = createRoute({
  method: 'get',
  path: '/admin/users/{id}',
  tags,
  summary: "An account's role and moderation state (staff)",
  description: 'Also for suspended accounts, which are 404 everywhere else.',
  ...staff,
  request: { params: UserIdParamSchema },
  responses: { 200: jsonContent(AccountStateSchema, 'The account'), ...guarded, ...errors[404] },
});

export const accountAction = createRoute({
  method: 'post',
  path: '/admin/users/{id}/actions',
  tags,
  summary: 'Warn, silence or suspend an account, or lift it (staff)',
  description: [
    '`warn` sends a `moderation_warning` notification with the reason. `silence`: posts reach only followers and friends (never discover, search, trends or suggestions), new conversations only friends, and comments on the posts of anyone else are held (seen by the account and staff only); the account is told with a `moderation_warning`. When the silence is lifted (`unsilence`, or when due), the comments it held are published and counted, notifying nobody; those a content rule or spam hold keeps for review stay held.',
    '`suspend`: login answers 403 (`/account-suspended`), live tokens stop working at once, sockets are closed, TURN credentials are revoked, and the profile and content are 404 to everyone else until lifted.',
    'Within seconds (through the fan-out queue, to every conversation it is or was in and every inbox it could have notified) its conversations show it as a hidden user, and other people\'s notifications leave it out: those it caused are not listed, counted, replayed or pushed, and it leaves grouped ones (`notification.removed` or the shrunk group on open sockets). Nothing is deleted: the lift brings every one back as it was.',
    '`duration_hours` (1..8,760, silence and suspend only): a Cron Trigger lifts it then. `unsilence` / `unsuspend` lift it now. Not on yourself; a moderator not on an admin (403).',
    'The answer comes once the rooms\' and inboxes\' part is queued; should queuing fail, the action fails (500) and nothing changed.',
  ].join(' '),
  ...staff,
  request: { params: UserIdParamSchema, body: jsonBody(AccountActionSchema) },
  responses: { 200: jsonContent(AccountStateSchema, 'The account after the action'), ...guarded, ...errors[404], ...errors[503] },
});

export const setRole = createRoute({
  method: 'put',
  path: '/admin/users/{id}/role',
  tags,
  summary: "Set an account's site role (admins)",
  description: 'user, moderator or admin. Not your own (400). Recorded as `role.changed`.',
  ...adminsOnly,
  request: { params: UserIdParamSchema, body: jsonBody(SetRoleSchema) },
  responses: { 200: jsonContent(AccountStateSchema, 'The account with its new role'), ...guarded, ...errors[404], ...errors[503] },
});

export const listRules = createRoute({
  method: 'get',
  path: '/admin/keyword_rules',
  tags,
  summary: 'Keyword rules (staff)',
  description: 'Newest first.',
  ...staff,
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(KeywordRulePageSchema, 'A page of rules'), ...guarded },
});

export const createRule = createRoute({
  method: 'post',
  path: '/admin/keyword_rules',
  tags,
  summary: 'Add a keyword rule (staff)',
  description: [
    'Applies to posts, comments, messages (REST and socket), bios, display names, community names and descriptions and group titles, case- and accent-insensitively (Unicode NFKD folding).',
    '`whole_word` (default true) matches whole words only ("spam" not in "spammer"); a multi-word pattern matches those words in a row.',
    '`reject` refuses the write (422 `/content-rejected`, field named); `hold` keeps a post or comment visible to its author and staff only, with an open report, until a moderator releases it (elsewhere it refuses like reject); `flag` publishes and opens a report.',
    'Every server isolate applies the change within 10 seconds. Pattern: 1..100 characters.',
  ].join(' '),
  ...staff,
  request: { body: jsonBody(CreateKeywordRuleSchema) },
  responses: { 201: jsonContent(KeywordRuleSchema, 'The new rule'), ...guarded, ...errors[409], ...errors[503] },
});

export const deleteRule = createRoute({
  method: 'delete',
  path: '/admin/keyword_rules/{id}',
  tags,
  summary: 'Delete a keyword rule (staff)',
  ...staff,
  request: { params: RuleIdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...guarded, ...errors[404], ...errors[503] },
});

export const stats = createRoute({
  method: 'get',
  path: '/admin/stats',
  tags,
  summary: 'Site statistics (staff)',
  description: 'From counters and index ranges, never table scans. `active_*`: accounts that logged in or refreshed a token in the window. `messages_1d`: counted per hour from the rooms, so the window is the last 24 whole hours.',
  ...staff,
  responses: { 200: jsonContent(StatsSchema, 'The statistics'), ...guarded },
});
