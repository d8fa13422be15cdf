import type { CommunityRow, UserRow } from '../../db/schema';

/**
 * Whole years between a `YYYY-MM-DD` birthdate and `today` (UTC): the age goes up on the birthday
 * itself. Someone born on 29 February has their birthday on 1 March in common years.
 */
export function ageOn(birthdate: string, today: Date): number {
  const [y, m, d] = birthdate.split('-').map(Number) as [number, number, number];
  const ty = today.getUTCFullYear();
  const tm = today.getUTCMonth() + 1;
  const td = today.getUTCDate();
  const hadBirthday = tm > m || (tm === m && td >= d);
  return ty - y - (hadBirthday ? 0 : 1);
}

/** Why someone may not join: a rule they fail, or a profile field the community needs and they lack. */
export interface JoinRefusal {
  rule: 'age' | 'gender';
  /** Set when the refusal is a missing profile field (fill it in with PATCH /api/v1/me). */
  missingField?: 'birthdate' | 'gender';
  detail: string;
}

type Rules = Pick<CommunityRow, 'minAge' | 'maxAge' | 'gender'>;
type Profile = Pick<UserRow, 'birthdate' | 'gender'>;

const ageRange = (c: Rules) =>
  c.minAge !== null && c.maxAge !== null ? `ages ${c.minAge} to ${c.maxAge}` : c.minAge !== null ? `ages ${c.minAge} and over` : `ages up to ${c.maxAge}`;

/** The first rule the profile fails for the community, or null when they may join. */
export function joinRefusal(community: Rules, user: Profile, today: Date): JoinRefusal | null {
  if (community.minAge !== null || community.maxAge !== null) {
    if (!user.birthdate) {
      return {
        rule: 'age',
        missingField: 'birthdate',
        detail: `This community is for ${ageRange(community)}: add your birthdate to your profile (PATCH /api/v1/me) to join.`,
      };
    }
    const age = ageOn(user.birthdate, today);
    if ((community.minAge !== null && age < community.minAge) || (community.maxAge !== null && age > community.maxAge)) {
      return { rule: 'age', detail: `This community is for ${ageRange(community)}; you are ${age}.` };
    }
  }
  if (community.gender !== 'any') {
    if (!user.gender) {
      return {
        rule: 'gender',
        missingField: 'gender',
        detail: `This community is for ${community.gender} members: add your gender to your profile (PATCH /api/v1/me) to join.`,
      };
    }
    if (user.gender !== community.gender) return { rule: 'gender', detail: `Your gender does not match: this community is for ${community.gender} members only.` };
  }
  return null;
}

/** A place key: how region and city are compared ("London" and " london" are one city). */
export const placeKey = (value: string | null | undefined): string | null => (value ? value.trim().toLowerCase() : null);
