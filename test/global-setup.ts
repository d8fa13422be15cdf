// Runs once in Node before the suite: starts the local stand-ins the tests reach (tests never reach an
// outside host) and hands their addresses and fixtures to the tests with provide/inject.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startFeedServer } from './fixtures/feeds/server';
import { startPushReceiver } from './fixtures/push/receiver';
import { startTurnApi } from './fixtures/turn/server';
import { startWebRtcLab } from './fixtures/webrtc/lab';
import { startMailServer } from './fixtures/mail/server';
import { startOAuthStandIns } from './fixtures/oauth/providers';

const LINKEDIN_FIXTURES = 'test/fixtures/linkedin';

export default async function setup(project: TestProject) {
  const feeds = await startFeedServer();
  project.provide('feedServerUrl', feeds.url);
  const turn = await startTurnApi();
  project.provide('turnApiUrl', turn.url);
  const push = await startPushReceiver();
  project.provide('pushReceiverUrl', push.url);
  const lab = await startWebRtcLab();
  project.provide('webrtcLabUrl', lab.url);
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
    await Promise.all([feeds.close(), turn.close(), push.close(), lab.close(), mail.close(), oauth.close()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    feedServerUrl: string;
    /** The stand-in for Cloudflare Realtime's TURN credentials API (test/fixtures/turn/server.ts). */
    turnApiUrl: string;
    /** The local push service (test/fixtures/push/receiver.ts). */
    pushReceiverUrl: string;
    /** Real WebRTC peers (werift) for the call test (test/fixtures/webrtc/lab.ts). */
    webrtcLabUrl: string;
    mailServerUrl: string;
    oauthStandIns: { urls: { oidc: string; google: string; apple: string; github: string }; applePrivateKey: string };
    linkedinFixtures: Record<string, string>;
  }
}
