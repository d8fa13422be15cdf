import { z } from '@hono/zod-openapi';

export const PostInsightsSchema = z
  .object({
    impressions: z.number().int().nonnegative().openapi({ description: 'Times the post was served in any feed, list or read (its author\'s own views excluded), counted in batches: a view shows up within seconds.' }),
    unique_viewers: z.number().int().nonnegative().openapi({ description: 'Distinct viewers among those impressions (signed-in users by account, anonymous readers by address), estimated with a HyperLogLog: exact for small audiences, within about 3% for large ones.' }),
    likes: z.number().int().nonnegative(),
    comments: z.number().int().nonnegative().openapi({ description: 'Comments and replies, as `comment_count`.' }),
    engagement_rate: z.number().nonnegative().openapi({ description: '(likes + comments) / impressions, rounded to 4 decimals; 0 before the first impression.' }),
  })
  .openapi('PostInsights', { example: { impressions: 1280, unique_viewers: 912, likes: 64, comments: 12, engagement_rate: 0.0594 } });

export const CommunityInsightsSchema = z
  .object({
    members: z.number().int().nonnegative().openapi({ description: 'Members, moderators and the owner (never pending applicants), as `member_count`.' }),
    new_members_7d: z.number().int().nonnegative().openapi({ description: 'Of those, how many joined (or were approved) in the last 7 days.' }),
    posts_7d: z.number().int().nonnegative().openapi({ description: 'Posts made in the community in the last 7 days.' }),
    active_members_7d: z.number().int().nonnegative().openapi({ description: 'Distinct current members who posted, commented on or liked a post of the community in the last 7 days.' }),
    reports_open: z.number().int().nonnegative().openapi({ description: 'Open reports about the community\'s posts and members (GET /communities/{id}/reports).' }),
  })
  .openapi('CommunityInsights', { example: { members: 1520, new_members_7d: 48, posts_7d: 213, active_members_7d: 377, reports_open: 2 } });
