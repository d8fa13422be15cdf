import { ApiError } from '../../lib/errors';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import { findUserById, requireUserRow } from '../users/users.service';
import { accountState, applyAccountAction } from './account-actions';
import * as admin from './admin.service';
import type * as adminRoutes from './admin.routes';
import * as queue from './queue.service';
import * as reports from './reports.service';
import type * as reportRoutes from './reports.routes';

// ---------------------------------------------------------------- reporters and communities

export const createReport: AppRouteHandler<typeof reportRoutes.createReport> = async (c) => {
  const { report, created } = await reports.createReport(c, currentUser(c).userId, c.req.valid('json'));
  return created ? c.json(report, 201) : c.json(report, 200);
};

export const listReports: AppRouteHandler<typeof reportRoutes.listReports> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await reports.listOwnReports(c, currentUser(c).userId, limit, cursor), 200);
};

export const listCommunityReports: AppRouteHandler<typeof reportRoutes.listCommunityReports> = async (c) =>
  c.json(await queue.listCommunityReports(c, currentUser(c).userId, c.req.valid('param').id, c.req.valid('query')), 200);

export const resolveCommunityReport: AppRouteHandler<typeof reportRoutes.resolveCommunityReport> = async (c) => {
  const { id, report_id } = c.req.valid('param');
  return c.json(await queue.resolveAsCommunity(c, currentUser(c), id, report_id, c.req.valid('json')), 200);
};

// ---------------------------------------------------------------- staff

export const listQueue: AppRouteHandler<typeof adminRoutes.listQueue> = async (c) => c.json(await queue.listQueue(c, c.req.valid('query')), 200);

export const getReport: AppRouteHandler<typeof adminRoutes.getReport> = async (c) =>
  c.json(await queue.staffView(c, await queue.requireReport(c, c.req.valid('param').id)), 200);

export const assignReport: AppRouteHandler<typeof adminRoutes.assignReport> = async (c) =>
  c.json(await queue.assignReport(c, currentUser(c).userId, c.req.valid('param').id), 200);

export const resolveReport: AppRouteHandler<typeof adminRoutes.resolveReport> = async (c) => {
  const { action, note, duration_hours } = c.req.valid('json');
  return c.json(await queue.resolveAsStaff(c, currentUser(c), c.req.valid('param').id, { action, note, durationHours: duration_hours }), 200);
};

export const getAccount: AppRouteHandler<typeof adminRoutes.getAccount> = async (c) => {
  const user = await findUserById(c.get('db'), c.req.valid('param').id);
  if (!user) throw new ApiError('not_found', 'No such user.');
  return c.json(accountState(user, c.get('baseUrl')), 200);
};

export const accountAction: AppRouteHandler<typeof adminRoutes.accountAction> = async (c) => {
  const target = await findUserById(c.get('db'), c.req.valid('param').id);
  if (!target) throw new ApiError('not_found', 'No such user.');
  const { action, reason, duration_hours } = c.req.valid('json');
  await applyAccountAction(c, currentUser(c), target, { action, reason, durationHours: duration_hours });
  return c.json(accountState(await requireUserRow(c.get('db'), target.id), c.get('baseUrl')), 200);
};

export const setRole: AppRouteHandler<typeof adminRoutes.setRole> = async (c) =>
  c.json(await admin.setRole(c, currentUser(c).userId, c.req.valid('param').id, c.req.valid('json').role), 200);

export const listRules: AppRouteHandler<typeof adminRoutes.listRules> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await admin.listKeywordRules(c, limit, cursor), 200);
};

export const createRule: AppRouteHandler<typeof adminRoutes.createRule> = async (c) =>
  c.json(await admin.createKeywordRule(c, currentUser(c).userId, c.req.valid('json')), 201);

export const deleteRule: AppRouteHandler<typeof adminRoutes.deleteRule> = async (c) => {
  await admin.deleteKeywordRule(c, currentUser(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

export const stats: AppRouteHandler<typeof adminRoutes.stats> = async (c) => c.json(await admin.adminStats(c), 200);
