import { createApp } from './app-shell';
import { documentRoutes, finalizeDocument, registerNullableComponents } from './lib/openapi-document';
import { apiRateLimit } from './middleware/rate-limit';
import { authRouter } from './modules/auth/auth.index';
import { callsRouter } from './modules/calls/calls.index';
import { oauthRouter } from './modules/oauth/oauth.index';
import { commentsRouter } from './modules/comments/comments.index';
import { communitiesRouter } from './modules/communities/communities.index';
import { feedsRouter } from './modules/feeds/feeds.index';
import { graphRouter } from './modules/graph/graph.index';
import { docsRouter } from './modules/docs/docs.index';
import { errorsRouter } from './modules/errors/errors.index';
import { healthRouter } from './modules/health/health.index';
import { mediaRouter } from './modules/media/media.index';
import { messagingRouter } from './modules/messaging/messaging.index';
import { postsRouter } from './modules/posts/posts.index';
import { usersRouter } from './modules/users/users.index';
import { deliverEvent } from './modules/notifications/delivery';
import { onSocialEvent } from './modules/notifications/events';
import { notificationsRouter } from './modules/notifications/notifications.index';
import { pushRouter } from './modules/push/push.index';
import { professionalRouter } from './modules/professional/professional.index';
import { newsRouter } from './modules/news/news.index';
import { auditRouter } from './modules/audit/audit.index';
import { filtersRouter } from './modules/filters/filters.index';
import { adminRouter, reportsRouter } from './modules/moderation/moderation.index';
import { searchRouter } from './modules/search/search.index';
import { suggestionsRouter } from './modules/suggestions/suggestions.index';
import { tagsRouter } from './modules/tags/tags.index';
import { insightsRouter } from './modules/insights/insights.index';
import { exportsRouter } from './modules/exports/exports.index';

export const API_BASE = '/api/v1';

const app = createApp();

// Every social event (from a request or a conversation room) becomes notifications in the recipients' inboxes.
onSocialEvent(deliverEvent);

// The general limit covers the whole API: per user for authenticated requests, per address otherwise.
app.use(`${API_BASE}/*`, apiRateLimit);

app.route('/', healthRouter);
app.route('/', docsRouter);
app.route('/', errorsRouter);
for (const router of [authRouter, oauthRouter, usersRouter, mediaRouter, graphRouter, postsRouter, commentsRouter, feedsRouter, messagingRouter, callsRouter, notificationsRouter, pushRouter, communitiesRouter, professionalRouter, newsRouter, reportsRouter, filtersRouter, adminRouter, auditRouter, searchRouter, tagsRouter, suggestionsRouter, insightsRouter, exportsRouter]) {
  app.route(API_BASE, router);
}

app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'Access token from /api/v1/auth/login, /register or /refresh (15 minutes).',
});

const documentInfo = {
  title: 'Kith API',
  version: '1.0.0',
  description:
    'Kith: an edge-native social network backend. Errors are RFC 9457 `application/problem+json` with `request_id`; lists take `?limit=` (1..100) and an opaque `?cursor=`. Every response carries `X-Request-Id`; a path no operation has answers `components.responses.NoRoute` (404), a known path with another method `MethodNotAllowed` (405).',
};

// The document is the same for every request but its server; it is built once per isolate.
let document: ReturnType<typeof finalizeDocument> | undefined;
app.get('/openapi.json', (c) => {
  if (!document) {
    registerNullableComponents(app.openAPIRegistry);
    document = finalizeDocument(app.getOpenAPI31Document({ openapi: '3.1.0', info: documentInfo }));
  }
  return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin, description: 'This server' }] });
});
for (const route of documentRoutes) app.openAPIRegistry.registerPath(route);

export default app;
