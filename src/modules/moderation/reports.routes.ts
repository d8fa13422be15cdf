import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { requireAuth } from '../../middleware/auth';
import {
  CommunityReportParamSchema,
  CommunityReportQuerySchema,
  CreateReportSchema,
  ReportPageSchema,
  ReportSchema,
  ResolveCommunityReportSchema,
  StaffReportPageSchema,
  StaffReportSchema,
} from './moderation.schemas';
import { CommunityIdParamSchema } from '../communities/communities.schemas';

const tags = ['Reports'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };

export const createReport = createRoute({
  method: 'post',
  path: '/reports',
  tags,
  summary: 'Report a user, post, comment, message or community',
  description: [
    'Staff see a snapshot of the subject taken now (author, text, media), so the report stays reviewable after the content is edited or deleted.',
    'A subject you cannot see is 404 (as everywhere); a message can be reported only by a participant of its conversation (`conversation_id` is required for messages). A message its sender deleted can still be reported by the other participants for 30 days (the snapshot is the message as it was sent): abuse is often unsent once read. After that, or once a moderator removed it or its sender\'s account was deleted, it is 404. Likewise a message\'s snapshot carries the earlier versions its sender\'s edits replaced within the last 30 days (`earlier_versions`), so that a message edited into something harmless still shows staff what it said; its images, and those of an unsent message, stay open to staff for as long, even after the sender deleted the uploads.',
    'Reporting yourself or your own content is 400. Reporting the same subject again while your report is open answers 200 with that report.',
    'At most 20 reports an hour per account (429). Reports about a community\'s posts, comments, or (with `community_id`) members are also handled by its owner and moderators.',
    'When it is resolved you get a `report_resolved` notification with the outcome (never who decided).',
  ].join(' '),
  ...authed,
  request: { body: jsonBody(CreateReportSchema) },
  responses: {
    201: jsonContent(ReportSchema, 'The new report'),
    200: jsonContent(ReportSchema, 'Your open report about this subject'),
    ...commonErrors,
    ...errors[401],
    ...errors[404],
    ...errors[409],
    ...errors[503],
  },
});

export const listReports = createRoute({
  method: 'get',
  path: '/reports',
  tags,
  summary: 'Your reports and their outcome',
  description: 'Newest first. `status` tells the outcome: open, actioned or dismissed.',
  ...authed,
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(ReportPageSchema, 'A page of your reports'), ...commonErrors, ...errors[401] },
});

export const listCommunityReports = createRoute({
  method: 'get',
  path: '/communities/{id}/reports',
  tags,
  summary: "A community's reports (owner and moderators)",
  description: "Reports about the community's posts and comments, and about members reported with its `community_id`; oldest first, one `status` (default open). The reporter is not shown (`reporter: null`).",
  ...authed,
  request: { params: CommunityIdParamSchema, query: CommunityReportQuerySchema },
  responses: { 200: jsonContent(StaffReportPageSchema, 'A page of reports'), ...commonErrors, ...errors[401], ...errors[403], ...errors[404] },
});

export const resolveCommunityReport = createRoute({
  method: 'post',
  path: '/communities/{id}/reports/{report_id}/resolve',
  tags,
  summary: "Resolve one of a community's reports (owner and moderators)",
  description:
    "`none` dismisses it (releasing content a rule held), `remove_content` deletes the post or comment, `remove_member` removes the reported member and bans them from the community, as `DELETE /communities/{id}/members/{user_id}?ban=true` does (also when they left meanwhile; only the owner removes a moderator; nobody removes the owner; the ban is audited as `community.member_banned` with the `report_id`). 409 once resolved. The reporter is notified (`report_resolved`).",
  ...authed,
  request: { params: CommunityReportParamSchema, body: jsonBody(ResolveCommunityReportSchema) },
  responses: { 200: jsonContent(StaffReportSchema, 'The resolved report'), ...commonErrors, ...errors[401], ...errors[403], ...errors[404], ...errors[409], ...errors[503] },
});
