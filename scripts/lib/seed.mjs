// Seeds a Kith D1 database with a realistic graph, entirely inside SQLite: each table is filled by a few
// recursive-CTE INSERT … SELECT statements (in chunks), so hundreds of thousands of rows take seconds.
// A deterministic hash replaces random(), so the same sizes always give the same data.
import { pbkdf2Sync, randomBytes } from 'node:crypto';

export const SEED_PASSWORD = 'password123';
const DAY = 86_400_000;
const TOPICS = ['general', 'news', 'education', 'faith', 'career', 'events', 'sports', 'music', 'arts', 'technology'];

/** `h(x, salt)`: a well-mixed non-negative integer from x (Knuth multiplicative hash, high bits). */
const h = (x, salt) => `((((${x}) + ${salt}) * 2654435761) % 4294967296) / 7`;
const userId = (expr) => `printf('%026d', ${expr})`;

function passwordHash(password) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, 100_000, 32, 'sha256');
  return `pbkdf2_sha256$100000$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

async function count(db, table) {
  const row = await db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first();
  return row.n;
}

/** Runs `sqlFor(from, to)` over [start, end) in chunks, so no single statement runs for long. */
async function chunked(db, start, end, size, sqlFor, params = []) {
  for (let from = start; from < end; from += size) {
    const to = Math.min(end, from + size);
    await db.prepare(sqlFor(from, to)).bind(...params).run();
  }
}

const range = (from, to) => `WITH RECURSIVE n(j) AS (SELECT ${from} UNION ALL SELECT j + 1 FROM n WHERE j < ${to - 1})`;

/**
 * Grows the database to the given sizes (it only adds what is missing, so 10k → 100k → 1M posts reuses
 * the earlier rows). Users: ~5% private accounts. Follows: each user follows `followsPerUser` accounts,
 * half chosen by a power law (rank ≈ users / uniform, so a few accounts have most followers) and half
 * uniformly. Friends: `friendsPerUser` random pairs, stored both ways. Posts: spread over the last 30
 * days, a quarter of them by the top 5% of authors; 80% public, 15% friends, 5% private; 2% wall posts.
 * Likes and comments land mostly on a small popular set of posts.
 */
export async function seed(db, { users = 5000, followsPerUser = 40, friendsPerUser = 10, posts = 200_000, likesPerPost = 2, commentsPerPost = 0.3, now = Date.now(), log = console.log } = {}) {
  const started = Date.now();
  const step = (what) => log(`  ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  // Only seeded accounts count: other users (registered by hand or by a benchmark) take no seed number.
  const haveUsers = (await db.prepare("SELECT COUNT(*) AS n FROM users WHERE username LIKE 'seed\\_%' ESCAPE '\\'").first()).n;
  if (haveUsers < users) {
    const hash = passwordHash(SEED_PASSWORD);
    await chunked(db, haveUsers + 1, users + 1, 5000, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO users (id, username, email, password_hash, display_name, bio, links, visibility, wall_policy, created_at, updated_at)
      SELECT ${userId('j')}, 'seed_' || j, 'seed_' || j || '@seed.kith.test', ?1, 'Seed User ' || j, 'Seeded account number ' || j, '[]',
             CASE WHEN j % 20 = 7 THEN 'private' ELSE 'public' END, CASE WHEN j % 5 = 0 THEN 'everyone' ELSE 'friends' END, ?2 - 90 * ${DAY} + j, ?2
      FROM n`, [hash, now]);
    step(`users: ${users}`);

    const edges = users * followsPerUser;
    await chunked(db, 0, edges, 50_000, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO follows (follower_id, followee_id, status, created_at)
      SELECT ${userId('f')}, ${userId('t')}, 'accepted', ?1 - (j % 1000) * 60000 FROM (
        SELECT j, 1 + j % ${users} AS f,
               CASE WHEN ${h('j', 11)} % 2 = 0 THEN MAX(1, ${users} / (1 + ${h('j', 13)} % ${users})) ELSE 1 + ${h('j', 17)} % ${users} END AS t
        FROM n) WHERE f != t`, [now]);
    step(`follows: ~${edges}`);

    const pairs = users * friendsPerUser / 2;
    for (const [a, b] of [['a', 'b'], ['b', 'a']]) {
      await chunked(db, 0, pairs, 50_000, (from, to) => `${range(from, to)}
        INSERT OR IGNORE INTO friendships (user_id, friend_id, created_at)
        SELECT ${userId(a)}, ${userId(b)}, ?1 - (j % 1000) * 60000 FROM (
          SELECT j, 1 + j % ${users} AS a, 1 + ${h('j', 23)} % ${users} AS b FROM n) WHERE a != b`, [now]);
    }
    step(`friendships: ~${pairs} pairs`);
  }

  const havePosts = await count(db, 'posts');
  if (havePosts < posts) {
    // A bulk import drops the materialised home timelines first (each read rebuilds its own): keeping
    // them up would look up every imported post's audience, and the import is back-dated anyway.
    await db.prepare('DELETE FROM home_timelines').run();
    await chunked(db, havePosts, posts, 50_000, (from, to) => `${range(from, to)}
      INSERT INTO posts (id, author_id, target_user_id, community_id, content, topic, visibility, like_count, comment_count, created_at, edited_at)
      SELECT printf('%013d%013d', ts, j), ${userId('author')},
             CASE WHEN ${h('j', 31)} % 50 = 0 THEN ${userId(`1 + ${h('j', 37)} % ${users}`)} END,
             NULL,
             'Seed post ' || j || ': notes on ' || COALESCE(topic, 'life') || ' from the neighbourhood.', topic,
             CASE WHEN ${h('j', 41)} % 20 < 16 THEN 'public' WHEN ${h('j', 41)} % 20 < 19 THEN 'friends' ELSE 'private' END,
             0, 0, ts, NULL
      FROM (SELECT j,
              ?1 - ${h('j', 43)} % (30 * ${DAY}) AS ts,
              CASE WHEN ${h('j', 47)} % 4 = 0 THEN 1 + ${h('j', 53)} % MAX(1, ${users} / 20) ELSE 1 + ${h('j', 59)} % ${users} END AS author,
              CASE ${h('j', 61)} % 11 ${TOPICS.map((t, i) => `WHEN ${i} THEN '${t}'`).join(' ')} ELSE NULL END AS topic
            FROM n)`, [now]);
    step(`posts: ${posts}`);

    const total = await count(db, 'posts');
    const likes = Math.round((posts - havePosts) * likesPerPost);
    const offset = havePosts * likesPerPost;
    // Half the likes go to the newest ~2% of rows (popular posts), half anywhere.
    await chunked(db, offset, offset + likes, 50_000, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO likes (post_id, user_id, created_at)
      SELECT p.id, ${userId(`1 + ${h('j', 71)} % ${users}`)}, p.created_at + 60000
      FROM n JOIN posts p ON p.rowid = CASE WHEN ${h('j', 73)} % 2 = 0 THEN ${total} - ${h('j', 79)} % MAX(1, ${total} / 50) ELSE 1 + ${h('j', 83)} % ${total} END`);
    step(`likes: ~${likes}`);

    const comments = Math.round((posts - havePosts) * commentsPerPost);
    const cOffset = Math.round(havePosts * commentsPerPost);
    await chunked(db, cOffset, cOffset + comments, 50_000, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO comments (id, post_id, author_id, parent_id, content, reply_count, created_at)
      SELECT printf('%013d%013d', p.created_at + 120000, j), p.id, ${userId(`1 + ${h('j', 89)} % ${users}`)}, NULL,
             'Seed comment ' || j, 0, p.created_at + 120000
      FROM n JOIN posts p ON p.rowid = CASE WHEN ${h('j', 97)} % 2 = 0 THEN ${total} - ${h('j', 101)} % MAX(1, ${total} / 50) ELSE 1 + ${h('j', 103)} % ${total} END`);
    const replies = Math.round(comments / 4);
    const haveComments = await count(db, 'comments');
    await chunked(db, cOffset, cOffset + replies, 50_000, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO comments (id, post_id, author_id, parent_id, content, reply_count, created_at)
      SELECT printf('%013d%013d', c.created_at + 60000, 900000000 + j), c.post_id, ${userId(`1 + ${h('j', 107)} % ${users}`)}, c.id,
             'Seed reply ' || j, 0, c.created_at + 60000
      FROM n JOIN comments c ON c.rowid = 1 + ${h('j', 109)} % ${haveComments} WHERE c.parent_id IS NULL`);
    step(`comments: ~${comments} and ~${replies} replies`);
  }
  await db.prepare('PRAGMA optimize').run().catch(() => undefined);
  return { users: await count(db, 'users'), posts: await count(db, 'posts'), likes: await count(db, 'likes'), comments: await count(db, 'comments'), follows: await count(db, 'follows'), friendships: await count(db, 'friendships') };
}
