import type { CommunityRole } from '../../db/schema';

/** A member proper (member, moderator or owner): not an applicant, not an outsider. */
export const isMember = (role: CommunityRole | null): boolean => role !== null && role !== 'pending';

/** The owner and moderators run a community: they edit it, manage its members and moderate its posts. */
export const isModerator = (role: CommunityRole | null): boolean => role === 'owner' || role === 'moderator';
