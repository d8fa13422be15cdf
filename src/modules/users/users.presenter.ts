import type { UserRow, UserSummary } from '../../db/schema';
import { mediaUrl } from '../media/media.keys';
import type { Me, Profile, PublicUser, Relationship } from './users.schemas';

/** The one public-user shape, used wherever a user appears inside another object. Never carries private fields. */
export function presentPublicUser(row: UserSummary, baseUrl: string): PublicUser {
  return {
    id: row.id,
    username: row.username,
    display_name: row.displayName,
    avatar_url: row.avatarKey ? mediaUrl(baseUrl, row.avatarKey) : null,
    bio: row.bio,
    is_verified: row.isVerified,
  };
}

/**
 * How a user appears to someone from whom they are hidden (a block either way), where an object must
 * still name them, as a conversation's participants and a message's sender do: the id the viewer
 * already knows, and nothing current (empty names, no avatar, no bio). Never the profile as it is now.
 */
export function presentHiddenUser(id: string): PublicUser {
  return { id, username: '', display_name: '', avatar_url: null, bio: '', is_verified: false };
}

function profileFields(row: UserRow, baseUrl: string) {
  return {
    ...presentPublicUser(row, baseUrl),
    location: row.locationCountry
      ? { country: row.locationCountry, region: row.locationRegion, city: row.locationCity }
      : null,
    website: row.website,
    links: row.links,
    created_at: row.createdAt.toISOString(),
    counts: { posts: row.postsCount, followers: row.followersCount, following: row.followingCount, friends: row.friendsCount },
  };
}

/**
 * A profile read (`GET /users/{id}`): public fields, the professional headline when the caller may see
 * it, counts, and the caller's relationship when authenticated.
 */
export function presentProfile(row: UserRow, baseUrl: string, headline: string | null, relationship?: Relationship): Profile {
  const profile = { ...profileFields(row, baseUrl), headline };
  return relationship ? { ...profile, relationship } : profile;
}

/** `/me`: the only place private fields (email, birthdate, gender, visibility) appear. */
export function presentMe(row: UserRow, baseUrl: string): Me {
  return {
    ...profileFields(row, baseUrl),
    email: row.email,
    email_verified: row.emailVerifiedAt !== null,
    birthdate: row.birthdate,
    gender: row.gender,
    visibility: row.visibility,
    wall_policy: row.wallPolicy,
    discoverable: row.discoverable,
    message_policy: row.messagePolicy,
    role: row.role,
  };
}
