import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/lib/errors';
import type { Bindings } from '../../src/lib/types';
import { assertSafeEndpoint, configuredProviders, providerFor } from '../../src/modules/oauth/providers';

// Which providers a deployment offers, from its variables alone (the flows against the stand-ins are in
// test/oauth/providers.test.ts, where every provider is configured and pointed at loopback).
const deployment = (vars: Record<string, string>) => vars as unknown as Bindings;

describe('Sign-in providers from the deployment’s variables', () => {
  it('should offer none when nothing is configured, and say which one is missing', () => {
    expect(configuredProviders(deployment({}))).toEqual([]);
    // Half a configuration is no configuration.
    expect(configuredProviders(deployment({ GOOGLE_CLIENT_ID: 'g', GITHUB_CLIENT_SECRET: 's', APPLE_CLIENT_ID: 'a', APPLE_TEAM_ID: 't', OIDC_CLIENT_ID: 'o' }))).toEqual([]);
    expect(() => providerFor(deployment({}), 'google')).toThrow('Sign-in with google is not configured on this server.');
    expect(() => providerFor(deployment({}), 'myspace')).toThrow(ApiError);
  });

  it('should use the real providers’ addresses by default, in a fixed order', async () => {
    const providers = configuredProviders(
      deployment({
        OIDC_ISSUER: 'https://id.example.com/',
        OIDC_CLIENT_ID: 'oidc-app',
        GITHUB_CLIENT_ID: 'gh',
        GITHUB_CLIENT_SECRET: 'gh-secret',
        GOOGLE_CLIENT_ID: 'google-app',
        GOOGLE_CLIENT_SECRET: 'google-secret',
        APPLE_CLIENT_ID: 'apple-app',
        APPLE_TEAM_ID: 'TEAM',
        APPLE_KEY_ID: 'KEY',
        APPLE_PRIVATE_KEY: 'pem',
      }),
    );
    expect(providers.map((p) => p.id)).toEqual(['google', 'apple', 'github', 'oidc']);
    const [google, apple, github, oidc] = providers as any[];
    expect(google).toMatchObject({ issuer: 'https://accounts.google.com', issuerAliases: ['accounts.google.com'], clientAuth: 'basic' });
    expect(await google.clientSecret()).toBe('google-secret');
    expect(apple).toMatchObject({ issuer: 'https://appleid.apple.com', clientAuth: 'post', responseMode: 'form_post' });
    expect(github).toMatchObject({
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      apiUrl: 'https://api.github.com',
    });
    expect(await github.clientSecret()).toBe('gh-secret');
    // A public OIDC client (no secret) authenticates with PKCE alone; the issuer loses its trailing slash.
    expect(oidc).toMatchObject({ name: 'OpenID Connect', issuer: 'https://id.example.com', clientAuth: 'none' });
    expect(await oidc.clientSecret()).toBeNull();
  });

  it('should accept only https endpoints, or http on loopback when OAUTH_ALLOW_HTTP is "true"', () => {
    const strict = deployment({});
    const local = deployment({ OAUTH_ALLOW_HTTP: 'true' });
    expect(assertSafeEndpoint(strict, 'https://id.example.com/token')).toBe('https://id.example.com/token');
    expect(() => assertSafeEndpoint(strict, 'http://127.0.0.1:9000/token')).toThrow('must be https');
    expect(assertSafeEndpoint(local, 'http://127.0.0.1:9000/token')).toBe('http://127.0.0.1:9000/token');
    expect(assertSafeEndpoint(local, 'http://[::1]:9000/token')).toBe('http://[::1]:9000/token');
    expect(() => assertSafeEndpoint(local, 'http://id.example.com/token')).toThrow('must be https');
    expect(() => assertSafeEndpoint(local, 'not a url')).toThrow('is not a URL');
  });
});
