import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../lib/create-app';
import { ID_PATTERN } from '../../lib/ids';
import { bearerSecurity, commonErrors, errors, jsonContent } from '../../lib/openapi';
import { pageSchema, PageQuerySchema } from '../../lib/pagination';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser, requireAuth } from '../../middleware/auth';
import { adminsOnly, guarded } from '../moderation/admin.routes';
import { publicUserExample, PublicUserSchema } from '../users/users.schemas';
import { AUDIT_ACTIONS, SECURITY_ACTIONS } from './audit';
import { listAudit, listSecurityEvents, verifyAudit } from './audit.service';

const entryExample = {
  id: '01JC7A1B2C3D4E5F6G7H8J9K0M',
  action: 'account.action',
  actor: publicUserExample,
  actor_id: publicUserExample.id,
  subject_type: 'user',
  subject_id: '01JC6Z9P8Q7H6V5Y4T3R2E1W0Q',
  ip: '203.0.113.7',
  data: { action: 'suspend', reason: 'Repeated harassment.', until: '2026-11-24T10:00:00.000Z' },
  created_at: '2026-11-21T10:00:00.000Z',
  prev_hash: 'a3f1…',
  hash: '9c0e…',
};

const AuditEntrySchema = z
  .object({
    id: z.string(),
    action: z.string().openapi({ description: `One of: ${AUDIT_ACTIONS.join(', ')}.` }),
    actor: PublicUserSchema.nullable().openapi({ description: 'null for the system, the command line, an anonymous caller, or an account since deleted (see actor_id).' }),
    actor_id: z.string().nullable(),
    subject_type: z.string().nullable(),
    subject_id: z.string().nullable(),
    ip: z.string().nullable().openapi({ description: 'The client address (CF-Connecting-IP) of the request that caused it.' }),
    data: z.record(z.string(), z.unknown()).openapi({ description: 'Details; never a password, token or code.' }),
    created_at: z.string(),
    prev_hash: z.string(),
    hash: z.string().openapi({ description: 'SHA-256 (hex) of the canonical JSON of { id, action, actor_id, subject_type, subject_id, ip, data, created_at (ms), prev_hash }.' }),
  })
  .openapi('AuditEntry', { example: entryExample });

const securityExample = { id: entryExample.id, action: 'auth.login', ip: '203.0.113.7', data: { session_id: '01JC7A1B2C3D4E5F6G7H8J9K0N', user_agent: 'Kith/1.0' }, created_at: entryExample.created_at };
const SecurityEventSchema = z
  .object({ id: z.string(), action: z.string(), ip: z.string().nullable(), data: z.record(z.string(), z.unknown()), created_at: z.string() })
  .openapi('SecurityEvent', { example: securityExample });

const Id = (name: string) => z.string().regex(ID_PATTERN, `is not a valid ${name.replace('_id', '')} id`).optional();
const AuditQuerySchema = PageQuerySchema.extend({
  action: z.enum(AUDIT_ACTIONS, { error: `must be one of ${AUDIT_ACTIONS.join(', ')}` }).optional().openapi({ param: { name: 'action', in: 'query' }, example: 'account.action' }),
  actor_id: Id('actor_id').openapi({ param: { name: 'actor_id', in: 'query' }, example: publicUserExample.id }),
  subject_id: Id('subject_id').openapi({ param: { name: 'subject_id', in: 'query' }, example: entryExample.subject_id }),
});

const VerifySchema = z
  .object({ ok: z.boolean(), entries: z.number().int().openapi({ description: 'Entries checked (up to the first bad one).' }), first_bad_id: z.string().nullable() })
  .openapi('AuditVerification', { example: { ok: true, entries: 1042, first_bad_id: null } });

const tags = ['Admin'];

const list = createRoute({
  method: 'get',
  path: '/admin/audit',
  tags,
  summary: 'The audit log (admins)',
  description:
    'Append-only: no API and no SQL statement can change or delete an entry (database triggers refuse it). Newest first; filter by `action`, `actor_id`, `subject_id`. Each entry is hash-chained to the one before.',
  ...adminsOnly,
  request: { query: AuditQuerySchema },
  responses: { 200: jsonContent(pageSchema('AuditEntryPage', AuditEntrySchema, entryExample), 'A page of entries'), ...guarded },
});

const verify = createRoute({
  method: 'get',
  path: '/admin/audit/verify',
  tags,
  summary: "Check the audit log's hash chain (admins)",
  description: 'Recomputes every hash in order; `ok: false` names the first entry whose hash or link is wrong.',
  ...adminsOnly,
  responses: { 200: jsonContent(VerifySchema, 'The verdict'), ...guarded },
});

const security = createRoute({
  method: 'get',
  path: '/me/security_events',
  tags: ['Me'],
  summary: 'Your security events',
  description: `Logins (with how: password, a provider, a second factor), failed logins and wrong second-factor codes, refresh-token reuse, password changes and resets, e-mail verification and change requests, two-factor sign-in turned on and off, providers linked and unlinked, and sessions signed out, about your account, newest first, with the client address. Actions: ${SECURITY_ACTIONS.join(', ')}.`,
  security: bearerSecurity,
  middleware: [requireAuth],
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(pageSchema('SecurityEventPage', SecurityEventSchema, securityExample), 'A page of events'), ...commonErrors, ...errors[401] },
});

const listHandler: AppRouteHandler<typeof list> = async (c) => c.json(await listAudit(c, c.req.valid('query')), 200);
const verifyHandler: AppRouteHandler<typeof verify> = async (c) => c.json(await verifyAudit(c.var.d1), 200);
const securityHandler: AppRouteHandler<typeof security> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await listSecurityEvents(c, currentUser(c).userId, limit, cursor), 200);
};

export const auditRouter = createRouter().openapi(list, listHandler).openapi(verify, verifyHandler).openapi(security, securityHandler);
