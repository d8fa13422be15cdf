import { inject } from 'vitest';
import { call, expectStatus, type TestUser } from '../helpers/client';

/** A fixture file of test/fixtures/linkedin (made by `npm run fixtures:linkedin`), as bytes. */
export function linkedinFixture(name: string): Uint8Array {
  const base64 = inject('linkedinFixtures')[name];
  if (!base64) throw new Error(`no LinkedIn fixture ${name}: run npm run fixtures:linkedin`);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Uploads `bytes` as the multipart part `file` named `name` to the LinkedIn import. */
export function importUpload(user: TestUser, bytes: Uint8Array, name: string, query = ''): Promise<Response> {
  const form = new FormData();
  form.append('file', new File([bytes], name));
  return call(`/me/professional/import/linkedin${query}`, { method: 'POST', body: form, token: user.accessToken });
}

export async function putProfessional(user: TestUser, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await call('/me/professional', { method: 'PUT', body, token: user.accessToken }), 200);
}

export async function getOwnProfessional(user: TestUser): Promise<any> {
  return expectStatus(await call('/me/professional', { token: user.accessToken }), 200);
}

export const position = (overrides: Record<string, unknown> = {}) => ({
  title: 'Engineer',
  company: 'Acme',
  location: 'London',
  started_on: '2020-01',
  ended_on: null,
  description: 'Builds things.',
  ...overrides,
});
