import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';
import { befriend, followOk } from '../graph/helpers';
import { comment, like, post } from '../posts/helpers';
import { act, createStaff } from './helpers';

/** The profile counts anyone sees, and a post's like count as its author reads it. */
async function countsOf(user: TestUser): Promise<{ followers: number; following: number; friends: number }> {
  const { counts } = await expectStatus(await call(`/users/${user.id}`, { token: user.accessToken }), 200);
  return { followers: counts.followers, following: counts.following, friends: counts.friends };
}
async function likeCount(author: TestUser, postId: string): Promise<number> {
  return (await expectStatus(await call(`/posts/${postId}`, { token: author.accessToken }), 200)).like_count;
}
/** A post's comment count and a comment's reply count, as the post's author reads them. */
async function threadCounts(author: TestUser, postId: string, commentId: string): Promise<{ comments: number; replies: number }> {
  const comments = (await expectStatus(await call(`/posts/${postId}`, { token: author.accessToken }), 200)).comment_count;
  const page = await expectStatus(await call(`/posts/${postId}/comments?limit=50`, { token: author.accessToken }), 200);
  return { comments, replies: page.data.find((c: { id: string }) => c.id === commentId).reply_count };
}

/**
 * A star followed, befriended and liked by an account, which also follows it back, is followed by a fan,
 * and comments on the star's post twice, once in reply to the fan's comment.
 */
async function farm() {
  const [star, bot, fan, admin] = [await createUser(), await createUser(), await createUser(), await createStaff('admin')];
  const liked = await post(star, 'bought applause');
  await followOk(bot, star);
  await followOk(star, bot);
  await followOk(fan, bot);
  await befriend(bot, star);
  await expectStatus(await like(bot, liked.id), 200);
  const fanComment = await comment(fan, liked.id, 'a real one');
  await comment(bot, liked.id, 'great post, visit my page');
  await comment(bot, liked.id, 'agreed!', fanComment.id);
  return { star, bot, fan, admin, liked, fanComment };
}

describe('Counts leave out suspended accounts', () => {
  it('should take a suspended account out of every follower, following, friend, like, comment and reply count, and put it back when lifted', async () => {
    const { star, bot, fan, admin, liked, fanComment } = await farm();
    expect(await countsOf(star)).toEqual({ followers: 1, following: 1, friends: 1 });
    expect(await countsOf(fan)).toMatchObject({ following: 1 });
    expect(await likeCount(star, liked.id)).toBe(1);
    expect(await threadCounts(star, liked.id, fanComment.id)).toEqual({ comments: 3, replies: 1 });

    await act(admin, bot, 'suspend');
    // The lists already hide it; the numbers now agree with them.
    expect(await countsOf(star)).toEqual({ followers: 0, following: 0, friends: 0 });
    expect(await countsOf(fan)).toMatchObject({ following: 0 });
    expect(await likeCount(star, liked.id)).toBe(0);
    expect(await threadCounts(star, liked.id, fanComment.id)).toEqual({ comments: 1, replies: 0 });
    const followers = await expectStatus(await call(`/users/${star.id}/followers`, { token: star.accessToken }), 200);
    expect(followers.data).toEqual([]);

    await act(admin, bot, 'unsuspend');
    expect(await countsOf(star)).toEqual({ followers: 1, following: 1, friends: 1 });
    expect(await countsOf(fan)).toMatchObject({ following: 1 });
    expect(await likeCount(star, liked.id)).toBe(1);
    expect(await threadCounts(star, liked.id, fanComment.id)).toEqual({ comments: 3, replies: 1 });
  });

  it('should count nothing twice when a suspended account\'s rows go: removed one by one, or with the account', async () => {
    const { star, bot, admin, liked, fanComment } = await farm();
    await act(admin, bot, 'suspend');
    // Rows removed while it is suspended were already out of the counts.
    await env.DB.prepare('DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2').bind(bot.id, star.id).run();
    await env.DB.prepare('DELETE FROM likes WHERE user_id = ?1').bind(bot.id).run();
    await env.DB.prepare('DELETE FROM comments WHERE author_id = ?1 AND parent_id IS NOT NULL').bind(bot.id).run();
    expect(await countsOf(star)).toEqual({ followers: 0, following: 0, friends: 0 });
    expect(await likeCount(star, liked.id)).toBe(0);
    expect(await threadCounts(star, liked.id, fanComment.id)).toEqual({ comments: 1, replies: 0 });
    // The account's deletion cascades the rest (star's follow of it, the friendship, its other comment).
    await env.DB.prepare('DELETE FROM users WHERE id = ?1').bind(bot.id).run();
    expect(await countsOf(star)).toEqual({ followers: 0, following: 0, friends: 0 });
    expect(await threadCounts(star, liked.id, fanComment.id)).toEqual({ comments: 1, replies: 0 });

    // And an account deleted while not suspended still leaves every count it was in.
    const other = await farm();
    await env.DB.prepare('DELETE FROM users WHERE id = ?1').bind(other.bot.id).run();
    expect(await countsOf(other.star)).toEqual({ followers: 0, following: 0, friends: 0 });
    expect(await likeCount(other.star, other.liked.id)).toBe(0);
    expect(await threadCounts(other.star, other.liked.id, other.fanComment.id)).toEqual({ comments: 1, replies: 0 });
  });
});
