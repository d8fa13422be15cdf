// Seeds a Kith D1 database with a realistic graph, entirely inside SQLite: each table is filled by a few
// recursive-CTE INSERT … SELECT statements (in chunks), so hundreds of thousands of rows take seconds.
// A deterministic hash replaces random(), so the same sizes always give the same data.
import { pbkdf2Sync, randomBytes } from 'node:crypto';

export const SEED_PASSWORD = 'password123';
const DAY = 86_400_000;
const TOPICS = ['general', 'news', 'education', 'faith', 'career', 'events', 'sports', 'music', 'arts', 'technology'];
// Names, places, words and hashtags, so that search meets realistic selectivity: a three-letter prefix
// of a first name matches about 1 account in 100, and words and tags follow skewed (Zipf-like) use.
const FIRST_NAMES = ('Ada Adam Adrian Aisha Alan Albert Alice Amara Amelia Ana Anna Arthur Ben Bella Bruno Carl Carla Chloe Chen Clara Daniel '
  + 'David Diana Dmitri Eden Edward Elena Elif Emma Eric Eva Fatima Felix Fiona Frank Freya George Grace Hana Hannah Harry Helen Henry Hugo Ian '
  + 'Ines Isaac Ivan Jack James Jana Javier Jean John Jonas Julia Kai Karim Karl Kate Kenji Kevin Laila Laura Leo Lena Liam Lina Lucas Lucy '
  + 'Luis Maria Mark Marta Martin Mary Max Mei Mia Mohamed Nadia Nina Noah Nora Olga Oliver Omar Oscar Paul Petra Peter Priya Quinn Rafael '
  + 'Rosa Ruth Sam Sara Simon Sofia Stefan Tariq Tom Uma Valentina Victor Vera Walter Wei Xavier Yara Yusuf Zara Zoe').split(' ');
const LAST_NAMES = ('Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker Wright Robinson Thompson White Hughes Edwards '
  + 'Green Hall Wood Harris Lewis Jackson Clarke Turner Hill Scott Cooper Morris Ward Moore King Watson Baker Harrison Morgan Patel Young '
  + 'Allen Mitchell Anderson Phillips Bell Parker Davis Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann García '
  + 'Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Díaz Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino '
  + 'Dubois Durand Lefèvre Moreau Laurent Michel Leroy Roux Silva Santos Oliveira Costa Pereira Nowak Kowalski Wiśniewski Novák Horváth '
  + 'Nagy Popescu Ivanov Petrov Yilmaz Kaya Demir Cohen Levi Kim Lee Park Wang Li Zhang Liu Tanaka Suzuki Sato Nguyen Tran Singh Kumar '
  + 'Sharma Khan Ali Hassan Okafor Mensah Diallo Mbeki Haddad Nasser').split(' ');
const PLACES = [
  ['GB', 'GB-LND', 'London'], ['GB', 'GB-MAN', 'Manchester'], ['GB', 'GB-EDH', 'Edinburgh'], ['FR', 'FR-IDF', 'Paris'], ['FR', 'FR-ARA', 'Lyon'],
  ['DE', 'DE-BE', 'Berlin'], ['DE', 'DE-BY', 'München'], ['DE', 'DE-HH', 'Hamburg'], ['ES', 'ES-MD', 'Madrid'], ['ES', 'ES-CT', 'Barcelona'],
  ['PT', 'PT-11', 'Lisboa'], ['PT', 'PT-13', 'Porto'], ['IT', 'IT-RM', 'Roma'], ['IT', 'IT-MI', 'Milano'], ['NL', 'NL-NH', 'Amsterdam'],
  ['US', 'US-NY', 'New York'], ['US', 'US-CA', 'San Francisco'], ['US', 'US-CA', 'Los Angeles'], ['US', 'US-IL', 'Chicago'], ['US', 'US-TX', 'Austin'],
  ['CA', 'CA-ON', 'Toronto'], ['BR', 'BR-SP', 'São Paulo'], ['MX', 'MX-CMX', 'Ciudad de México'], ['JP', 'JP-13', 'Tokyo'], ['KR', 'KR-11', 'Seoul'],
  ['IN', 'IN-MH', 'Mumbai'], ['IN', 'IN-KA', 'Bengaluru'], ['NG', 'NG-LA', 'Lagos'], ['KE', 'KE-30', 'Nairobi'], ['AU', 'AU-NSW', 'Sydney'],
];
const JOBS = 'teacher nurse engineer designer farmer writer chef student developer musician baker architect carpenter painter doctor lawyer gardener photographer'.split(' ');
const WORDS = ('today week weekend morning evening garden coffee market street park river school music football concert library recipe bread '
  + 'bicycle train weather rain sunshine festival project meeting family friends neighbours kitchen dinner lunch breakfast book film theatre '
  + 'museum painting photo walk run match team game club class lesson course exam holiday trip beach mountain forest village city bridge '
  + 'station bus tram harbour boat island lake snow winter summer spring autumn birthday wedding party dance song album guitar piano choir '
  + 'volunteer charity council election budget startup code software hardware robot science history language poetry story news update').split(' ');
const TAGS = ('photography music football cooking gardening travel books coding science history art design running cycling hiking coffee '
  + 'baking poetry film theatre jazz climate local news education health fitness yoga chess gaming startups opensource rust javascript '
  + 'python webdev devops ai robotics space astronomy birds nature wildlife ocean mountains city architecture food vegan recipes wine beer '
  + 'tea fashion crafts knitting diy woodworking parenting family pets dogs cats volunteering community elections politics economy '
  + 'jobs career remote writing blogging podcasts radio vinyl concerts festivals weekend summer winter spring autumn rain snow sunset '
  + 'streetart museums languages learning maths physics chemistry biology medicine nursing teaching students university research '
  + 'accessibility privacy security linux selfhosting fediverse smallbusiness markets farming sustainability cycling_life urbanism '
  + 'transit trains buses housing neighbourhood events meetup charity fundraising sports basketball tennis rugby cricket swimming '
  + 'skating surfing climbing camping fishing sailing motorsport esports anime comics illustration sketching calligraphy pottery '
  + 'dance ballet opera choir guitar piano drums synth hiphop rock folk classical electronic karaoke').split(' ').filter((t, i, all) => all.indexOf(t) === i);
/** Seeded accounts with HUB_FRIENDS friends each (seed_201 …): the suggestions bench reads as them. */
export const HUBS = Array.from({ length: 16 }, (_, i) => `seed_${201 + i}`);
const HUB_FRIENDS = 200;
/** A word every seeded post contains, for the bench's post search on a common word. */
export const COMMON_WORD = 'neighbourhood';
/** Three-letter prefixes of the seeded first names, for the bench's typeahead search. */
export const NAME_PREFIXES = [...new Set(FIRST_NAMES.map((n) => n.slice(0, 3).toLowerCase()))];

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

/** An SQL expression picking item `index` of the JSON array bound as `param`. */
const pick = (param, index) => `json_extract(${param}, printf('$[%d]', ${index}))`;
/** A skewed index into a list of n: low indexes far more often (Zipf-like). */
const skewed = (x, salt, n) => `(${h(x, salt)} % (1 + ${h(x, salt + 1)} % ${n}))`;

/** Runs `sqlFor(from, to)` over [start, end) in chunks, so no single statement runs for long. */
async function chunked(db, start, end, size, sqlFor, params = []) {
  for (let from = start; from < end; from += size) {
    const to = Math.min(end, from + size);
    await db.prepare(sqlFor(from, to)).bind(...params).run();
  }
}

/** Rows per seeding statement: a statement of 50,000 follows (each firing its triggers) ran long enough on a busy machine for workerd to drop the connection. */
const SEED_CHUNK = 10_000;
/** Posts per seeding statement (see the posts step). */
const POST_CHUNK = 2_000;

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
    // Display names "First Last", a bio naming a job, a city and a topic, and that city as the place.
    await chunked(db, haveUsers + 1, users + 1, 5000, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO users (id, username, email, password_hash, display_name, bio, links, visibility, wall_policy,
        location_country, location_region, location_city, created_at, updated_at)
      SELECT ${userId('j')}, 'seed_' || j, 'seed_' || j || '@seed.kith.test', ?1, first || ' ' || last,
             'A ' || job || ' in ' || (place ->> '$[2]') || ', into ' || topic || '.', '[]',
             CASE WHEN j % 20 = 7 THEN 'private' ELSE 'public' END, CASE WHEN j % 5 = 0 THEN 'everyone' ELSE 'friends' END,
             place ->> '$[0]', place ->> '$[1]', place ->> '$[2]', ?2 - 90 * ${DAY} + j, ?2
      FROM (SELECT j, ${pick('?3', `${h('j', 3)} % ${FIRST_NAMES.length}`)} AS first, ${pick('?4', `${h('j', 5)} % ${LAST_NAMES.length}`)} AS last,
              json_extract(?5, printf('$[%d]', ${h('j', 7)} % ${PLACES.length})) AS place, ${pick('?6', `${h('j', 9)} % ${JOBS.length}`)} AS job,
              ${pick('?7', `${h('j', 11)} % ${TOPICS.length}`)} AS topic FROM n)`,
      [hash, now, JSON.stringify(FIRST_NAMES), JSON.stringify(LAST_NAMES), JSON.stringify(PLACES), JSON.stringify(JOBS), JSON.stringify(TOPICS)]);
    step(`users: ${users}`);

    const edges = users * followsPerUser;
    await chunked(db, 0, edges, SEED_CHUNK, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO follows (follower_id, followee_id, status, created_at)
      SELECT ${userId('f')}, ${userId('t')}, 'accepted', ?1 - (j % 1000) * 60000 FROM (
        SELECT j, 1 + j % ${users} AS f,
               CASE WHEN ${h('j', 11)} % 2 = 0 THEN MAX(1, ${users} / (1 + ${h('j', 13)} % ${users})) ELSE 1 + ${h('j', 17)} % ${users} END AS t
        FROM n) WHERE f != t`, [now]);
    step(`follows: ~${edges}`);

    const pairs = users * friendsPerUser / 2;
    for (const [a, b] of [['a', 'b'], ['b', 'a']]) {
      await chunked(db, 0, pairs, SEED_CHUNK, (from, to) => `${range(from, to)}
        INSERT OR IGNORE INTO friendships (user_id, friend_id, created_at)
        SELECT ${userId(a)}, ${userId(b)}, ?1 - (j % 1000) * 60000 FROM (
          SELECT j, 1 + j % ${users} AS a, 1 + ${h('j', 23)} % ${users} AS b FROM n) WHERE a != b`, [now]);
    }
    // Hubs: a few accounts with HUB_FRIENDS friends each (GET /suggestions for a well-connected user).
    const hubs = HUBS.filter((_, i) => 201 + i <= users).length;
    for (const [a, b] of [['hub', 'friend'], ['friend', 'hub']]) {
      await chunked(db, 0, hubs * HUB_FRIENDS, SEED_CHUNK, (from, to) => `${range(from, to)}
        INSERT OR IGNORE INTO friendships (user_id, friend_id, created_at)
        SELECT ${userId(a)}, ${userId(b)}, ?1 - (j % 1000) * 60000 FROM (
          SELECT j, 201 + j / ${HUB_FRIENDS} AS hub, 1 + ${h('j', 127)} % ${users} AS friend FROM n) WHERE hub != friend`, [now]);
    }
    step(`friendships: ~${pairs} pairs, and ${hubs} accounts with ~${HUB_FRIENDS} friends`);
  }

  const havePosts = await count(db, 'posts');
  if (havePosts < posts) {
    // A bulk import drops the materialised home timelines first (each read rebuilds its own): keeping
    // them up would look up every imported post's audience, and the import is back-dated anyway.
    await db.prepare('DELETE FROM home_timelines').run();
    const firstNew = (await db.prepare('SELECT COALESCE(MAX(rowid), 0) AS r FROM posts').first()).r;
    // Content: a topic, three words (skewed), the common word, and #tags on about 3 posts in 10.
    // POST_CHUNK a statement: each post row also feeds the full-text index and tag triggers, and 50,000
    // (and on a busy machine 10,000) in one statement ran long enough for workerd to drop the connection.
    await chunked(db, havePosts, posts, POST_CHUNK, (from, to) => `${range(from, to)}
      INSERT INTO posts (id, author_id, target_user_id, community_id, content, tags, topic, visibility, like_count, comment_count, created_at, edited_at)
      SELECT printf('%013d%013d', ts, j), ${userId('author')},
             CASE WHEN ${h('j', 31)} % 50 = 0 THEN ${userId(`1 + ${h('j', 37)} % ${users}`)} END,
             NULL,
             'Notes on ' || COALESCE(topic, 'life') || ': ' || w1 || ' ' || w2 || ' and ' || w3 || ' in the ${COMMON_WORD}.'
               || COALESCE(' #' || t1, '') || CASE WHEN t2 != t1 THEN ' #' || t2 ELSE '' END,
             CASE WHEN t2 != t1 THEN json_array(t1, t2) WHEN t1 IS NOT NULL THEN json_array(t1) ELSE '[]' END,
             topic,
             CASE WHEN ${h('j', 41)} % 20 < 16 THEN 'public' WHEN ${h('j', 41)} % 20 < 19 THEN 'friends' ELSE 'private' END,
             0, 0, ts, NULL
      FROM (SELECT j,
              ?1 - ${h('j', 43)} % (30 * ${DAY}) AS ts,
              CASE WHEN ${h('j', 47)} % 4 = 0 THEN 1 + ${h('j', 53)} % MAX(1, ${users} / 20) ELSE 1 + ${h('j', 59)} % ${users} END AS author,
              CASE ${h('j', 61)} % 11 ${TOPICS.map((t, i) => `WHEN ${i} THEN '${t}'`).join(' ')} ELSE NULL END AS topic,
              ${pick('?2', skewed('j', 211, WORDS.length))} AS w1, ${pick('?2', skewed('j', 223, WORDS.length))} AS w2,
              ${pick('?2', skewed('j', 227, WORDS.length))} AS w3,
              CASE WHEN ${h('j', 229)} % 10 < 3 THEN ${pick('?3', skewed('j', 233, TAGS.length))} END AS t1,
              CASE WHEN ${h('j', 229)} % 10 = 0 THEN ${pick('?3', `${h('j', 239)} % ${TAGS.length}`)} END AS t2
            FROM n)`, [now, JSON.stringify(WORDS), JSON.stringify(TAGS)]);
    const lastNew = (await db.prepare('SELECT MAX(rowid) AS r FROM posts').first()).r;
    await chunked(db, firstNew, lastNew, 20_000, (from, to) => `
      INSERT OR IGNORE INTO post_tags (post_id, tag, created_at)
      SELECT p.id, t.value, p.created_at FROM posts p, json_each(p.tags) t WHERE p.rowid > ${from} AND p.rowid <= ${to} AND p.tags != '[]'`);
    step(`posts: ${posts}, with hashtags`);

    const total = await count(db, 'posts');
    const likes = Math.round((posts - havePosts) * likesPerPost);
    const offset = havePosts * likesPerPost;
    // Half the likes go to the newest ~2% of rows (popular posts), half anywhere.
    await chunked(db, offset, offset + likes, SEED_CHUNK, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO likes (post_id, user_id, created_at)
      SELECT p.id, ${userId(`1 + ${h('j', 71)} % ${users}`)}, p.created_at + 60000
      FROM n JOIN posts p ON p.rowid = CASE WHEN ${h('j', 73)} % 2 = 0 THEN ${total} - ${h('j', 79)} % MAX(1, ${total} / 50) ELSE 1 + ${h('j', 83)} % ${total} END`);
    step(`likes: ~${likes}`);

    const comments = Math.round((posts - havePosts) * commentsPerPost);
    const cOffset = Math.round(havePosts * commentsPerPost);
    await chunked(db, cOffset, cOffset + comments, SEED_CHUNK, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO comments (id, post_id, author_id, parent_id, content, reply_count, created_at)
      SELECT printf('%013d%013d', p.created_at + 120000, j), p.id, ${userId(`1 + ${h('j', 89)} % ${users}`)}, NULL,
             'Seed comment ' || j, 0, p.created_at + 120000
      FROM n JOIN posts p ON p.rowid = CASE WHEN ${h('j', 97)} % 2 = 0 THEN ${total} - ${h('j', 101)} % MAX(1, ${total} / 50) ELSE 1 + ${h('j', 103)} % ${total} END`);
    const replies = Math.round(comments / 4);
    const haveComments = await count(db, 'comments');
    await chunked(db, cOffset, cOffset + replies, SEED_CHUNK, (from, to) => `${range(from, to)}
      INSERT OR IGNORE INTO comments (id, post_id, author_id, parent_id, content, reply_count, created_at)
      SELECT printf('%013d%013d', c.created_at + 60000, 900000000 + j), c.post_id, ${userId(`1 + ${h('j', 107)} % ${users}`)}, c.id,
             'Seed reply ' || j, 0, c.created_at + 60000
      FROM n JOIN comments c ON c.rowid = 1 + ${h('j', 109)} % ${haveComments} WHERE c.parent_id IS NULL`);
    step(`comments: ~${comments} and ~${replies} replies`);
  }
  await db.prepare('PRAGMA optimize').run().catch(() => undefined);
  return { users: await count(db, 'users'), posts: await count(db, 'posts'), likes: await count(db, 'likes'), comments: await count(db, 'comments'), follows: await count(db, 'follows'), friendships: await count(db, 'friendships') };
}
