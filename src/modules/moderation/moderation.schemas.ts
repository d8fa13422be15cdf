import { z } from '@hono/zod-openapi';
import { KEYWORD_RULE_ACTIONS, REPORT_ACTIONS, REPORT_CATEGORIES, REPORT_STATUSES, REPORT_SUBJECT_TYPES, SITE_ROLES } from '../../db/schema';
import { EXAMPLE_ID, idParam } from '../../lib/openapi';
import { ID_PATTERN } from '../../lib/ids';
import { pageSchema, PageQuerySchema } from '../../lib/pagination';
import { multiLineText, singleLineText } from '../../policy/text-hygiene';
import { publicUserExample, PublicUserSchema } from '../users/users.schemas';

export const MAX_REPORT_COMMENT = 1000;
export const MAX_NOTE = 1000;
export const MAX_DURATION_HOURS = 8760;
export const MAX_PATTERN = 100;

const oneOf = (values: readonly string[]) => ({ error: `must be one of ${values.join(', ')}` });
const Id = (what: string) => z.string().regex(ID_PATTERN, `is not a valid ${what} id`);

export const ReportIdParamSchema = idParam('id', 'report', '01JC7R1A2B3C4D5E6F7G8H9J0K');
export const UserIdParamSchema = idParam('id', 'user');
export const RuleIdParamSchema = idParam('id', 'keyword rule', '01JC7K1A2B3C4D5E6F7G8H9J0K');
export const CommunityReportParamSchema = z.object({
  id: z.string().min(1).max(100).regex(/^[A-Za-z0-9_-]+$/, 'must be a community id or slug').openapi({ param: { name: 'id', in: 'path' }, example: 'lisbon-runners' }),
  report_id: Id('report').openapi({ param: { name: 'report_id', in: 'path' }, example: '01JC7R1A2B3C4D5E6F7G8H9J0K' }),
});

const DurationHours = z
  .number()
  .int('must be a whole number of hours')
  .min(1, `must be between 1 and ${MAX_DURATION_HOURS}`)
  .max(MAX_DURATION_HOURS, `must be between 1 and ${MAX_DURATION_HOURS}`)
  .openapi({ description: 'silence and suspend only: lifted automatically after this many hours (1..8,760). Without it the action stays until undone.' });
const Note = multiLineText().trim().max(MAX_NOTE, `must be at most ${MAX_NOTE} characters`);

export const CreateReportSchema = z
  .strictObject({
    subject_type: z.enum(REPORT_SUBJECT_TYPES, oneOf(REPORT_SUBJECT_TYPES)),
    subject_id: Id('subject'),
    category: z.enum(REPORT_CATEGORIES, oneOf(REPORT_CATEGORIES)),
    comment: multiLineText().trim().max(MAX_REPORT_COMMENT, `must be at most ${MAX_REPORT_COMMENT} characters`).optional(),
    conversation_id: Id('conversation').optional().openapi({ description: 'Required for a message: the conversation it is in (you must be a participant).' }),
    community_id: Id('community')
      .optional()
      .openapi({ description: "For a user: report them as a member of this community, so its owner and moderators see the report too (they must be a member you may see in its member list: a private account only if you are a member too; 404 naming `community_id` otherwise)." }),
  })
  .superRefine((value, ctx) => {
    if (value.subject_type === 'message' && !value.conversation_id) ctx.addIssue({ code: 'custom', path: ['conversation_id'], message: 'is required to report a message' });
    if (value.subject_type !== 'message' && value.conversation_id) ctx.addIssue({ code: 'custom', path: ['conversation_id'], message: 'is only for reporting a message' });
    if (value.subject_type !== 'user' && value.community_id) ctx.addIssue({ code: 'custom', path: ['community_id'], message: 'is only for reporting a user' });
  })
  .openapi('CreateReport', { example: { subject_type: 'post', subject_id: EXAMPLE_ID, category: 'harassment', comment: 'Targets me in every thread.' } });

const reportExample = {
  id: '01JC7R1A2B3C4D5E6F7G8H9J0K',
  subject_type: 'post' as const,
  subject_id: EXAMPLE_ID,
  category: 'harassment' as const,
  comment: 'Targets me in every thread.',
  status: 'open' as const,
  created_at: '2026-11-21T10:00:00.000Z',
  resolved_at: null,
};

/** The report as its reporter sees it: the outcome, never who decided it. */
export const ReportSchema = z
  .object({
    id: z.string(),
    subject_type: z.enum(REPORT_SUBJECT_TYPES),
    subject_id: z.string(),
    category: z.enum(REPORT_CATEGORIES),
    comment: z.string().nullable(),
    status: z.enum(REPORT_STATUSES),
    created_at: z.string(),
    resolved_at: z.string().nullable(),
  })
  .openapi('Report', { example: reportExample });
export const ReportPageSchema = pageSchema('ReportPage', ReportSchema, reportExample);

const SnapshotMediaSchema = z.array(z.object({ id: z.string(), url: z.string(), content_type: z.string(), width: z.number().int(), height: z.number().int() }));

const EarlierVersionSchema = z
  .object({
    content: z.string(),
    media: SnapshotMediaSchema,
    replaced_at: z.string().openapi({ description: 'When an edit replaced this version.' }),
  })
  .openapi('ReportEarlierVersion', { description: 'A text (and media) an edit of the reported message replaced.' });

const SnapshotSchema = z
  .object({
    author: PublicUserSchema.nullable().openapi({ description: 'The author (a user, the community owner) as they were; null if unknown.' }),
    content: z.string(),
    media: SnapshotMediaSchema,
    earlier_versions: z
      .array(EarlierVersionSchema)
      .nullable()
      .openapi({
        description:
          'For a message reported by a participant: every earlier version its sender\'s edits replaced within the 30 days before the report, oldest first (`[]` when none); `content` and `media` are the message as it was when reported (as sent, if its sender had deleted it). Staff open the images of both through GET /media/{key} with their token, also after the sender deleted the message or the upload. null for every other subject, automatic reports, and reports filed before versions were kept.',
      }),
  })
  .openapi('ReportSnapshot', { description: 'The subject when it was reported; it stays after the content is edited or deleted.' });

const AutoSchema = z
  .object({
    kind: z.enum(['keyword_rule', 'spam_repeat', 'spam_links']),
    action: z.enum(['hold', 'flag']),
    rule_id: z.string().nullable(),
    pattern: z.string().nullable(),
    field: z.string().nullable(),
  })
  .openapi('ReportAuto', { description: 'Why a rule or a spam hold opened this report (reporter null).' });

const staffReportExample = {
  ...reportExample,
  reporter: publicUserExample,
  subject: { author: publicUserExample, content: 'You again? Log off.', media: [], earlier_versions: null },
  resolution: null,
  assigned_to: null,
  auto: null,
  community_id: null,
  held: false,
};

/** The staff (and community moderators') view of a report. */
export const StaffReportSchema = ReportSchema.extend({
  reporter: PublicUserSchema.nullable().openapi({ description: 'null for automatic reports (content rules, spam holds), and hidden (null) from community moderators.' }),
  subject: SnapshotSchema,
  resolution: z
    .object({ action: z.enum(REPORT_ACTIONS), note: z.string().nullable(), moderator: PublicUserSchema.nullable() })
    .nullable()
    .openapi({ description: 'null while open.' }),
  assigned_to: PublicUserSchema.nullable(),
  auto: AutoSchema.nullable(),
  community_id: z.string().nullable().openapi({ description: "Set when the community's owner and moderators handle it too." }),
  held: z.boolean().openapi({ description: 'The subject is held: seen by its author and staff only until a `none` resolution of its automatic report releases it.' }),
}).openapi('StaffReport', { example: staffReportExample });
export const StaffReportPageSchema = pageSchema('StaffReportPage', StaffReportSchema, staffReportExample);

export const ReportQueueQuerySchema = PageQuerySchema.extend({
  status: z.enum(REPORT_STATUSES, oneOf(REPORT_STATUSES)).default('open').openapi({ param: { name: 'status', in: 'query' }, example: 'open' }),
  category: z.enum(REPORT_CATEGORIES, oneOf(REPORT_CATEGORIES)).optional().openapi({ param: { name: 'category', in: 'query' }, example: 'spam' }),
  subject_type: z.enum(REPORT_SUBJECT_TYPES, oneOf(REPORT_SUBJECT_TYPES)).optional().openapi({ param: { name: 'subject_type', in: 'query' }, example: 'post' }),
});
export const CommunityReportQuerySchema = PageQuerySchema.extend({
  status: z.enum(REPORT_STATUSES, oneOf(REPORT_STATUSES)).default('open').openapi({ param: { name: 'status', in: 'query' }, example: 'open' }),
});

const SITE_ACTIONS = ['none', 'remove_content', 'warn', 'silence', 'suspend'] as const;
export const ResolveReportSchema = z
  .strictObject({ action: z.enum(SITE_ACTIONS, oneOf(SITE_ACTIONS)), note: Note.optional(), duration_hours: DurationHours.optional() })
  .superRefine((value, ctx) => {
    if (value.duration_hours !== undefined && value.action !== 'silence' && value.action !== 'suspend') {
      ctx.addIssue({ code: 'custom', path: ['duration_hours'], message: 'only silence and suspend take a duration' });
    }
  })
  .openapi('ResolveReport', { example: { action: 'suspend', note: 'Repeated harassment after a warning.', duration_hours: 72 } });

const COMMUNITY_ACTIONS = ['none', 'remove_content', 'remove_member'] as const;
export const ResolveCommunityReportSchema = z
  .strictObject({ action: z.enum(COMMUNITY_ACTIONS, oneOf(COMMUNITY_ACTIONS)), note: Note.optional() })
  .openapi('ResolveCommunityReport', { example: { action: 'remove_content', note: 'Off-topic spam.' } });

const ACCOUNT_ACTIONS = ['warn', 'silence', 'unsilence', 'suspend', 'unsuspend'] as const;
export const AccountActionSchema = z
  .strictObject({
    action: z.enum(ACCOUNT_ACTIONS, oneOf(ACCOUNT_ACTIONS)),
    reason: multiLineText().trim().min(1, 'must not be blank').max(MAX_NOTE, `must be at most ${MAX_NOTE} characters`),
    duration_hours: DurationHours.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.duration_hours !== undefined && value.action !== 'silence' && value.action !== 'suspend') {
      ctx.addIssue({ code: 'custom', path: ['duration_hours'], message: 'only silence and suspend take a duration' });
    }
  })
  .openapi('AccountAction', { example: { action: 'silence', reason: 'Spamming replies.', duration_hours: 24 } });

export const SetRoleSchema = z.strictObject({ role: z.enum(SITE_ROLES, oneOf(SITE_ROLES)) }).openapi('SetSiteRole', { example: { role: 'moderator' } });

const accountExample = { user: publicUserExample, role: 'user' as const, status: 'silenced' as const, until: '2026-11-22T10:00:00.000Z' };
export const AccountStateSchema = z
  .object({
    user: PublicUserSchema,
    role: z.enum(SITE_ROLES),
    status: z.enum(['active', 'silenced', 'suspended']).openapi({ description: 'suspended wins over silenced when both are in force.' }),
    until: z.string().nullable().openapi({ description: 'When the status lifts itself; null for active, or until undone by hand.' }),
  })
  .openapi('AccountState', { example: accountExample });

const ruleExample = { id: '01JC7K1A2B3C4D5E6F7G8H9J0K', pattern: 'buy followers', whole_word: true, action: 'hold' as const, created_at: '2026-11-21T10:00:00.000Z' };
export const KeywordRuleSchema = z
  .object({ id: z.string(), pattern: z.string(), whole_word: z.boolean(), action: z.enum(KEYWORD_RULE_ACTIONS), created_at: z.string() })
  .openapi('KeywordRule', { example: ruleExample });
export const KeywordRulePageSchema = pageSchema('KeywordRulePage', KeywordRuleSchema, ruleExample);
export const CreateKeywordRuleSchema = z
  .strictObject({
    pattern: singleLineText().min(1, 'must not be empty').max(MAX_PATTERN, `must be at most ${MAX_PATTERN} characters`),
    whole_word: z.boolean().default(true),
    action: z.enum(KEYWORD_RULE_ACTIONS, oneOf(KEYWORD_RULE_ACTIONS)),
  })
  .openapi('CreateKeywordRule', { example: { pattern: 'buy followers', whole_word: true, action: 'hold' } });

export const StatsSchema = z
  .object({
    users: z.object({ total: z.number().int(), new_1d: z.number().int(), active_1d: z.number().int(), active_7d: z.number().int() }),
    posts: z.object({ total: z.number().int(), new_1d: z.number().int() }),
    messages_1d: z.number().int(),
    communities: z.object({ total: z.number().int(), new_1d: z.number().int() }),
    reports: z.object({ open: z.number().int() }),
  })
  .openapi('AdminStats', {
    example: { users: { total: 5210, new_1d: 34, active_1d: 812, active_7d: 2301 }, posts: { total: 201544, new_1d: 1290 }, messages_1d: 8811, communities: { total: 96, new_1d: 2 }, reports: { open: 7 } },
  });

/** `data` of a `report_resolved` notification (to the reporter; never names the moderator). */
export const ReportResolvedDataSchema = z
  .object({
    report_id: z.string(),
    subject_type: z.enum(REPORT_SUBJECT_TYPES),
    subject_id: z.string(),
    category: z.enum(REPORT_CATEGORIES),
    status: z.enum(['actioned', 'dismissed']),
    resolved_at: z.string(),
  })
  .openapi('ReportResolvedData');

/** `data` of a `moderation_warning` notification (a warning, or a silence with its reason). */
export const ModerationWarningDataSchema = z
  .object({ action: z.enum(['warn', 'silence']), reason: z.string(), until: z.string().nullable() })
  .openapi('ModerationWarningData');

export type ReportResolvedData = z.infer<typeof ReportResolvedDataSchema>;
export type ModerationWarningData = z.infer<typeof ModerationWarningDataSchema>;
export type Report = z.infer<typeof ReportSchema>;
export type StaffReport = z.infer<typeof StaffReportSchema>;
export type AccountState = z.infer<typeof AccountStateSchema>;
