import { describe, expect, it } from 'vitest';
import { DISCOVER_CANDIDATES, DISCOVER_WINDOW_MS, discoverScore } from '../../src/modules/feeds/feeds.service';
import { call, expectStatus } from '../helpers/client';
import { DAY, HOUR } from './helpers';

const NOW = Date.UTC(2026, 10, 21, 10, 0, 0);
const NONE = { friend_of_friend: 0, liked_by_friend: 0, is_friend: 0 };
const NO_TOPICS = new Map<string, number>();

const post = (over: Partial<{ like_count: number; comment_count: number; created_at: number; topic: string | null }> = {}) => ({
  like_count: 0,
  comment_count: 0,
  created_at: NOW,
  topic: null as string | null,
  ...over,
});

/** The documented formula, written out independently. */
function reference(likes: number, comments: number, ageHours: number, fof: number, likedByFriend: number, friend: number, topicShare: number): number {
  return ((1 + likes + 2 * comments) / Math.pow(ageHours + 2, 1.5)) * (1 + 0.5 * fof + 0.5 * likedByFriend + 0.25 * friend) * (1 + topicShare);
}

describe('discoverScore', () => {
  it('should give a brand-new post without engagement 1 / 2^1.5', () => {
    expect(discoverScore(post(), NONE, NO_TOPICS, NOW)).toBeCloseTo(1 / Math.pow(2, 1.5), 12);
  });

  it('should weigh likes once and comments twice over (age_hours + 2)^1.5', () => {
    // (1 + 3 + 2·2) / (2 + 2)^1.5 = 8 / 8 = 1
    expect(discoverScore(post({ like_count: 3, comment_count: 2, created_at: NOW - 2 * HOUR }), NONE, NO_TOPICS, NOW)).toBeCloseTo(1, 12);
    // (1 + 0 + 2·4) / (7 + 2)^1.5 = 9 / 27
    expect(discoverScore(post({ comment_count: 4, created_at: NOW - 7 * HOUR }), NONE, NO_TOPICS, NOW)).toBeCloseTo(1 / 3, 12);
    // A comment is worth exactly two likes.
    const twoLikes = discoverScore(post({ like_count: 2 }), NONE, NO_TOPICS, NOW);
    const oneComment = discoverScore(post({ comment_count: 1 }), NONE, NO_TOPICS, NOW);
    expect(oneComment).toBeCloseTo(twoLikes, 12);
  });

  it('should apply the proximity factor 1 + 0.5·fof + 0.5·liked_by_friend + 0.25·friend', () => {
    const base = discoverScore(post({ like_count: 4, created_at: NOW - 3 * HOUR }), NONE, NO_TOPICS, NOW);
    const p = post({ like_count: 4, created_at: NOW - 3 * HOUR });
    expect(discoverScore(p, { ...NONE, friend_of_friend: 1 }, NO_TOPICS, NOW) / base).toBeCloseTo(1.5, 12);
    expect(discoverScore(p, { ...NONE, liked_by_friend: 1 }, NO_TOPICS, NOW) / base).toBeCloseTo(1.5, 12);
    expect(discoverScore(p, { ...NONE, is_friend: 1 }, NO_TOPICS, NOW) / base).toBeCloseTo(1.25, 12);
    expect(discoverScore(p, { friend_of_friend: 1, liked_by_friend: 1, is_friend: 1 }, NO_TOPICS, NOW) / base).toBeCloseTo(2.25, 12);
  });

  it('should multiply by 1 + topic_share for the post’s topic only', () => {
    const shares = new Map([
      ['news', 0.5],
      ['music', 0.25],
    ]);
    const at = NOW - 10 * HOUR;
    const plain = discoverScore(post({ created_at: at, topic: 'news' }), NONE, NO_TOPICS, NOW);
    expect(discoverScore(post({ created_at: at, topic: 'news' }), NONE, shares, NOW) / plain).toBeCloseTo(1.5, 12);
    expect(discoverScore(post({ created_at: at, topic: 'music' }), NONE, shares, NOW) / plain).toBeCloseTo(1.25, 12);
    expect(discoverScore(post({ created_at: at, topic: 'food' }), NONE, shares, NOW)).toBeCloseTo(plain, 12);
    expect(discoverScore(post({ created_at: at, topic: null }), NONE, shares, NOW)).toBeCloseTo(plain, 12);
  });

  it('should match the documented formula on a grid of inputs', () => {
    const shares = new Map([['career', 0.4]]);
    for (const likes of [0, 1, 17, 250]) {
      for (const comments of [0, 3, 40]) {
        for (const ageHours of [0, 0.5, 5, 48, 160]) {
          for (const [fof, lbf, fr] of [
            [0, 0, 0],
            [1, 0, 1],
            [1, 1, 0],
          ] as const) {
            for (const topic of [null, 'career', 'news']) {
              const got = discoverScore(
                { like_count: likes, comment_count: comments, created_at: NOW - ageHours * HOUR, topic },
                { friend_of_friend: fof, liked_by_friend: lbf, is_friend: fr },
                shares,
                NOW,
              );
              const want = reference(likes, comments, ageHours, fof, lbf, fr, topic === 'career' ? 0.4 : 0);
              expect(Math.abs(got - want) / want).toBeLessThan(1e-12);
            }
          }
        }
      }
    }
  });

  it('should be monotonic: more engagement ranks higher, more age ranks lower', () => {
    const at = NOW - 6 * HOUR;
    const s = (likes: number, comments: number, created: number) => discoverScore(post({ like_count: likes, comment_count: comments, created_at: created }), NONE, NO_TOPICS, NOW);
    expect(s(10, 0, at)).toBeGreaterThan(s(9, 0, at));
    expect(s(0, 1, at)).toBeGreaterThan(s(1, 0, at));
    expect(s(5, 5, NOW - HOUR)).toBeGreaterThan(s(5, 5, NOW - 2 * HOUR));
    expect(s(5, 5, NOW - DAY)).toBeGreaterThan(s(5, 5, NOW - 6 * DAY));
  });

  it('should treat a post from the future as brand new (age clamped at 0)', () => {
    const future = discoverScore(post({ created_at: NOW + 5 * HOUR, like_count: 2 }), NONE, NO_TOPICS, NOW);
    const fresh = discoverScore(post({ created_at: NOW, like_count: 2 }), NONE, NO_TOPICS, NOW);
    expect(future).toBeCloseTo(fresh, 12);
    expect(Number.isFinite(future)).toBe(true);
  });

  it('should use a 7-day window and 500 candidates, as documented', async () => {
    expect(DISCOVER_WINDOW_MS).toBe(7 * DAY);
    expect(DISCOVER_CANDIDATES).toBe(500);
    const doc = await expectStatus(await call('/openapi.json'), 200);
    const description: string = doc.paths['/api/v1/feed/discover'].get.description;
    expect(description).toContain('score = (1 + likes + 2·comments) / (age_hours + 2)^1.5 × (1 + 0.5·friend_of_friend + 0.5·liked_by_a_friend + 0.25·friend) × (1 + topic_share)');
    expect(description).toContain('last 7 days');
    expect(description).toContain('500');
  });
});
