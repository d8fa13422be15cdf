import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { call, expectProblem, expectStatus, randomIp } from '../helpers/client';
import { burstUntilLimited } from '../helpers/rate-limit';
import { dance, exchange, newIdentity, oauthSignIn } from '../helpers/oauth';
import { enableTotp, totpCode } from '../auth/helpers';

describe('Limits on the public sign-in endpoints (per client address)', () => {
  it('should limit the code exchange to 30 a minute per address', async () => {
    const ip = randomIp();
    const { limited } = await burstUntilLimited({ limit: 30, periodSeconds: 60, max: 70, chunk: 5, send: () => call('/auth/oauth/exchange', { body: { code: 'guess' }, ip }) });
    const problem = await expectProblem(limited, 429);
    expect(limited.headers.get('Retry-After')).toBe('60');
    expect(problem.detail).toMatch(/Too many/);
    // Another address is not affected.
    await expectProblem(await exchange('guess'), 400, 'code');
  });

  it('should limit verification mails and link checks to 10 a minute per address', async () => {
    const ip = randomIp();
    const { limited } = await burstUntilLimited({ limit: 10, periodSeconds: 60, max: 30, send: () => call('/auth/email/resend', { body: { email: 'nobody@example.com' }, ip }) });
    await expectProblem(limited, 429);
    await expectProblem(await call('/auth/email/verify', { body: { token: 'x' }, ip }), 429);
  });

  it('should limit the MFA step per address like logins', async () => {
    const ip = randomIp();
    const { limited } = await burstUntilLimited({ limit: 20, periodSeconds: 60, max: 50, chunk: 5, send: () => call('/auth/login/mfa', { body: { mfa_token: 'x', code: '123456' }, ip }) });
    await expectProblem(limited, 429);
  });
});

describe('OAuth sign-in with two-factor sign-in on', () => {
  it('should ask for the second factor at the exchange, and record how the user signed in', async () => {
    const who = newIdentity();
    const first = await oauthSignIn('oidc', who);
    const { secret } = await enableTotp({ email: first.user.email, accessToken: first.access_token });
    const code = (await dance('oidc', who)).searchParams.get('code')!;
    const problem = await expectProblem(await exchange(code), 401);
    expect(problem.type).toMatch(/\/mfa-required$/);
    const body = await expectStatus(await call('/auth/login/mfa', { body: { mfa_token: problem.mfa_token, code: totpCode(secret) } }), 200);
    expect(body.user.id).toBe(first.user.id);
    const entry = await env.DB.prepare("SELECT data FROM audit_log WHERE action = 'auth.login' AND subject_id = ?1 ORDER BY seq DESC LIMIT 1").bind(first.user.id).first<{ data: string }>();
    expect(JSON.parse(entry!.data)).toMatchObject({ method: 'oauth:oidc', mfa: 'totp' });
  });
});
