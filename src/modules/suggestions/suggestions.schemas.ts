import { z } from '@hono/zod-openapi';
import { idParam } from '../../lib/openapi';
import { publicUserExample, PublicUserSchema } from '../users/users.schemas';
import { REASON } from './suggestions.queries';

export const REASONS = Object.keys(REASON) as (keyof typeof REASON)[];

const mutualExample = { ...publicUserExample, id: '01JC6Z2B3C4D5E6F7G8H9J0K1M', username: 'charles_b', display_name: 'Charles Babbage', avatar_url: null, bio: 'Engines.' };

export const SuggestionSchema = z
  .object({
    user: PublicUserSchema,
    reasons: z.array(z.enum(REASONS as [string, ...string[]])).openapi({ description: 'Why, strongest first: `mutual_friends`, `mutual_follows`, `same_community`, `nearby` (same city or region), `popular` (for new accounts).' }),
    mutual_count: z.number().int().openapi({ description: 'Your friends and followed accounts who are friends with, or follow, this person.' }),
    mutuals: z.array(PublicUserSchema).max(3).openapi({ description: 'Up to three of them.' }),
  })
  .openapi('Suggestion');

const suggestionExample = { user: publicUserExample, reasons: ['mutual_friends', 'nearby'], mutual_count: 4, mutuals: [mutualExample] };

export const SuggestionListSchema = z.object({ data: z.array(SuggestionSchema) }).openapi('SuggestionList', { example: { data: [suggestionExample] } });

export const DismissParamSchema = idParam('user_id', 'user');

export type Suggestion = z.infer<typeof SuggestionSchema>;
