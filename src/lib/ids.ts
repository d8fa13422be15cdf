const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID: 26 URL-safe characters, lexicographically sortable by creation time. */
export function newId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let rand = '';
  for (const b of bytes) rand += CROCKFORD[b & 31];
  return time + rand;
}

/** Matches the shape of ids produced by {@link newId}. */
export const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
