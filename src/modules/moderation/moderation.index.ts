import { createRouter } from '../../lib/create-app';
import * as admin from './admin.routes';
import * as handlers from './moderation.handlers';
import * as reports from './reports.routes';
import { ModerationWarningDataSchema, ReportResolvedDataSchema } from './moderation.schemas';

/** Reports for everyone, and community moderation. */
export const reportsRouter = createRouter()
  .openapi(reports.createReport, handlers.createReport)
  .openapi(reports.listReports, handlers.listReports)
  .openapi(reports.listCommunityReports, handlers.listCommunityReports)
  .openapi(reports.resolveCommunityReport, handlers.resolveCommunityReport);

/** The staff side: the queue, account actions, roles, keyword rules, stats. */
export const adminRouter = createRouter()
  .openapi(admin.listQueue, handlers.listQueue)
  .openapi(admin.getReport, handlers.getReport)
  .openapi(admin.assignReport, handlers.assignReport)
  .openapi(admin.resolveReport, handlers.resolveReport)
  .openapi(admin.getAccount, handlers.getAccount)
  .openapi(admin.accountAction, handlers.accountAction)
  .openapi(admin.setRole, handlers.setRole)
  .openapi(admin.listRules, handlers.listRules)
  .openapi(admin.createRule, handlers.createRule)
  .openapi(admin.deleteRule, handlers.deleteRule)
  .openapi(admin.stats, handlers.stats);

// The `data` of the two notification types moderation sends, as named components of the document.
reportsRouter.openAPIRegistry.register('ReportResolvedData', ReportResolvedDataSchema);
reportsRouter.openAPIRegistry.register('ModerationWarningData', ModerationWarningDataSchema);
