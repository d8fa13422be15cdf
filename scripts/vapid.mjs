#!/usr/bin/env node
// `npm run vapid`: prints a fresh VAPID key pair for Web Push, ready for `wrangler secret put`
// (or .dev.vars): VAPID_PUBLIC_KEY is the 65-byte P-256 point, VAPID_PRIVATE_KEY the 32-byte scalar,
// both base64url. Keep the private key secret; changing the pair invalidates every push subscription.
import { generateVapidKeys } from './lib/vapid.mjs';

const { publicKey, privateKey } = generateVapidKeys();
console.log(`VAPID_PUBLIC_KEY="${publicKey}"`);
console.log(`VAPID_PRIVATE_KEY="${privateKey}"`);
console.error('\nProduction: npm run wrangler -- secret put VAPID_PUBLIC_KEY, then the same for VAPID_PRIVATE_KEY (paste each value).');
