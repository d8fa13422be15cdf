// A VAPID key pair (RFC 8292) in the form Kith's secrets take: base64url of the 65-byte uncompressed
// P-256 public point and of the 32-byte private scalar. Used by `npm run vapid`, `npm run dev` and the tests.
import { generateKeyPairSync } from 'node:crypto';

/** @returns {{ publicKey: string, privateKey: string }} */
export function generateVapidKeys() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return { publicKey: point.toString('base64url'), privateKey: jwk.d };
}
