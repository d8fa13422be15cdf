import { createRouter } from '../../lib/create-app';
import * as handlers from './auth.handlers';
import * as routes from './auth.routes';
import * as emailHandlers from './email.handlers';
import * as emailRoutes from './email.routes';
import * as mfaHandlers from './mfa.handlers';
import * as mfaRoutes from './mfa.routes';
import * as sessionHandlers from './sessions.handlers';
import * as sessionRoutes from './sessions.routes';

export const authRouter = createRouter()
  .openapi(routes.register, handlers.register)
  .openapi(routes.login, handlers.login)
  .openapi(routes.refresh, handlers.refresh)
  .openapi(routes.logout, handlers.logout)
  .openapi(routes.forgotPassword, handlers.forgotPassword)
  .openapi(routes.resetPassword, handlers.resetPassword)
  .openapi(routes.changePassword, handlers.changePassword)
  .openapi(emailRoutes.verifyEmail, emailHandlers.verifyEmail)
  .openapi(emailRoutes.resendEmail, emailHandlers.resendEmail)
  .openapi(sessionRoutes.listSessions, sessionHandlers.list)
  .openapi(sessionRoutes.revokeOtherSessions, sessionHandlers.revokeOthers)
  .openapi(sessionRoutes.revokeSession, sessionHandlers.revokeOne)
  .openapi(mfaRoutes.loginMfa, mfaHandlers.loginMfa)
  .openapi(mfaRoutes.getMfa, mfaHandlers.getMfa)
  .openapi(mfaRoutes.startTotp, mfaHandlers.startTotp)
  .openapi(mfaRoutes.confirmTotp, mfaHandlers.confirmTotp)
  .openapi(mfaRoutes.disableTotp, mfaHandlers.disableTotpHandler);
