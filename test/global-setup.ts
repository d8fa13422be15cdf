// Runs once in Node before the suite: starts the local stand-ins the tests reach (tests never reach an
// outside host) and hands their addresses and fixtures to the tests with provide/inject.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startFeedServer } from './fixtures/feeds/server';
import { startMailServer } from './fixtures/mail/server';
import { startOAuthStandIns } from './fixtures/oauth/providers';

const LINKEDIN_FIXTURES = 'test/fixtures/linkedin';

export default async function setup(project: TestProject) {
  const feeds = await startFeedServer();
  project.provide('feedServerUrl', feeds.url);
  const mail = await startMailServer();
  project.provide('mailServerUrl', mail.url);
  const oauth = await startOAuthStandIns();
  project.provide('oauthStandIns', { urls: oauth.urls, applePrivateKey: oauth.applePrivateKey });
  // workerd cannot read the disk: the LinkedIn fixture files travel as base64.
  project.provide(
    'linkedinFixtures',
    Object.fromEntries(readdirSync(LINKEDIN_FIXTURES).map((name) => [name, readFileSync(join(LINKEDIN_FIXTURES, name)).toString('base64')])),
  );
  return async () => {
    await feeds.close();
    await mail.close();
    await oauth.close();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    feedServerUrl: string;
    mailServerUrl: string;
    oauthStandIns: { urls: { oidc: string; google: string; apple: string; github: string }; applePrivateKey: string };
    linkedinFixtures: Record<string, string>;
  }
}
