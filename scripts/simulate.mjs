#!/usr/bin/env node
// `npm run simulate`: a capacity model of Kith (docs/CAPACITY.md explains it).
//
// 1. Measures the bytes one row of each kind costs, tables and indexes included: the real schema
//    (migrations/*.sql for D1; the Durable Objects' own CREATE TABLE statements, read from src/) is
//    loaded into an in-memory SQLite (node:sqlite), rows like the product's are inserted, and the growth
//    of the database file is divided by the count.
// 2. Models a day of `--users` accounts (default 100,000) from per-user activity rates and a follower
//    distribution with one celebrity, and reports peak D1 writes/s, per-object peaks (a celebrity's
//    inbox, the busiest community chat room), storage growth, and every platform limit crossed; then
//    scales the same day to `--scale` users (default 1,000,000) and prices a month.
//
// Options: --users 100000 --scale 1000000 --dau 0.3 --peak 3 --celebrity 0.2 --community 50000
//          --rows 2000 (rows measured per kind)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    scale: { type: 'string', default: '1000000' },
    // Share of accounts active on a given day.
    dau: { type: 'string', default: '0.3' },
    // Peak hour over the average hour (diurnal curve of one region-heavy audience).
    peak: { type: 'string', default: '3' },
    // Share of all accounts following the most-followed account.
    celebrity: { type: 'string', default: '0.2' },
    // Members of the largest community (its chat is one ConversationRoom).
    community: { type: 'string', default: '50000' },
    rows: { type: 'string', default: '2000' },
  },
});
const USERS = Number(values.users);
const SCALE = Number(values.scale);
const DAU = Number(values.dau);
const PEAK = Number(values.peak);
const CELEBRITY_SHARE = Number(values.celebrity);
const COMMUNITY = Number(values.community);
const ROWS = Number(values.rows);

/** Per active user per day (a busy consumer social app; change them here and the model follows). */
const ACTIVITY = {
  posts: 1,
  likes: 10,
  comments: 2,
  messages: 30,
  follows: 0.5,
  homeReads: 25,
  otherReads: 60,
  notificationsReceived: 25,
};
/** Average accepted followers + friends per account (the bench's seed has about 37). */
const AVG_AUDIENCE = 40;
/** Share of an author's audience with a live home timeline (read home in the last 24 hours): the DAU share. */
const LIVE_TIMELINE_SHARE = DAU;
/** Push threshold (src/modules/feeds/hybrid.ts FAN_OUT_PUSH_LIMIT). */
const PUSH_LIMIT = 1000;

/** Platform limits (Cloudflare's published numbers) and the ceilings this model checks against. */
const LIMITS = {
  d1Bytes: 10e9, // D1: maximum database size (Workers Paid)
  // D1 executes one query at a time per database: ~1 ms writes give about 1,000 statements/s.
  d1StatementsPerSecond: 1000,
  doRequestsPerSecond: 1000, // a Durable Object: about 1,000 requests/s (soft)
  doSockets: 32768, // WebSockets per Durable Object
  doBytes: 10e9, // SQLite storage per Durable Object
  subrequests: 1000, // per invocation (Workers Paid default)
};

/** Published prices (USD, Workers Paid) used for the monthly cost. */
const PRICES = {
  base: 5, // Workers Paid subscription
  workerRequests: { included: 10e6, perMillion: 0.3 },
  workerCpuMs: { included: 30e6, perMillion: 0.02 },
  d1RowsRead: { included: 25e9, perMillion: 0.001 },
  d1RowsWritten: { included: 50e6, perMillion: 1.0 },
  d1StorageGb: { included: 5, perGb: 0.75 },
  doRequests: { included: 1e6, perMillion: 0.15 },
  doGbSeconds: { included: 400e3, perMillion: 12.5 },
  doRowsWritten: { included: 50e6, perMillion: 1.0 },
  doRowsRead: { included: 25e9, perMillion: 0.001 },
  doStorageGb: { included: 5, perGb: 0.2 },
  queueOps: { included: 1e6, perMillion: 0.4 }, // a message is 3 operations (write, read, delete)
  r2StorageGb: { included: 10, perGb: 0.015 },
  r2ClassA: { included: 1e6, perMillion: 4.5 },
  r2ClassB: { included: 10e6, perMillion: 0.36 },
  analyticsPoints: { included: 10e6, perMillion: 0.25 },
};

// ---------------------------------------------------------------------------------------------
// 1. Bytes per row, measured.

function statementsOf(sql) {
  return sql
    .split('--> statement-breakpoint')
    .map((s) => s.trim())
    .filter(Boolean);
}

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The CREATE TABLE (and its CREATE INDEX lines) a Durable Object runs for `table`, found in src/. */
function durableObjectSchema(table) {
  for (const file of sourceFiles('src')) {
    const text = readFileSync(file, 'utf8');
    const m = new RegExp(`CREATE TABLE IF NOT EXISTS ${table} \\(([\\s\\S]*?)\\);`).exec(text);
    if (!m) continue;
    const indexes = [...text.matchAll(new RegExp(`CREATE (?:UNIQUE )?INDEX IF NOT EXISTS \\w+ ON ${table} [^;'\`]*`, 'g'))].map((x) => `${x[0]};`);
    // Columns added later to existing objects (ALTER TABLE … ADD COLUMN) come before the indexes.
    const added = [...text.matchAll(new RegExp(`ALTER TABLE ${table} ADD COLUMN [^;'\`]*`, 'g'))].map((x) => `${x[0]};`);
    return [`CREATE TABLE ${table} (${m[1]});`, ...added, ...indexes];
  }
  throw new Error(`no CREATE TABLE ${table} found under src/`);
}

const text = (n) => 'x'.repeat(n);
const ulid = (i) => `01J${String(i).padStart(23, '0')}`;

function measureRows() {
  const d1 = new DatabaseSync(':memory:');
  d1.exec('PRAGMA foreign_keys = OFF');
  for (const file of readdirSync('migrations').filter((f) => f.endsWith('.sql')).sort()) {
    for (const sql of statementsOf(readFileSync(join('migrations', file), 'utf8'))) d1.exec(sql);
  }
  const size = (db) => db.prepare('PRAGMA page_count').get().page_count * db.prepare('PRAGMA page_size').get().page_size;
  const perRow = (db, insert) => {
    db.exec('BEGIN');
    for (let i = 0; i < 50; i++) insert(-1 - i); // warm the pages every kind shares
    db.exec('COMMIT');
    const before = size(db);
    db.exec('BEGIN');
    for (let i = 0; i < ROWS; i++) insert(i);
    db.exec('COMMIT');
    return Math.round((size(db) - before) / ROWS);
  };
  const now = Date.now();
  const user = d1.prepare(
    `INSERT INTO users (id, username, email, password_hash, display_name, bio, links, visibility, wall_policy, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, '[]', 'public', 'friends', ?, ?)`,
  );
  const bytes = {};
  bytes.user = perRow(d1, (i) => user.run(`u${ulid(i + 100)}`, `user_${i + 100}`, `user_${i + 100}@example.com`, `pbkdf2_sha256$100000$${text(22)}$${text(43)}`, `User ${i}`, text(60), now, now));
  const post = d1.prepare(`INSERT INTO posts (id, author_id, content, visibility, created_at) VALUES (?, ?, ?, 'public', ?)`);
  bytes.post = perRow(d1, (i) => post.run(ulid(i + 100), `u${ulid((i % 500) + 100)}`, text(140), now + i));
  const like = d1.prepare('INSERT INTO likes (user_id, post_id, created_at) VALUES (?, ?, ?)');
  bytes.like = perRow(d1, (i) => like.run(`u${ulid((i % 1000) + 100)}`, ulid(Math.floor(i / 1000) + 100 + (i < 0 ? 3000 : 0)), now));
  const follow = d1.prepare(`INSERT INTO follows (follower_id, followee_id, status, created_at) VALUES (?, ?, 'accepted', ?)`);
  bytes.follow = perRow(d1, (i) => follow.run(`u${ulid((i % 1000) + 100)}`, `f${Math.floor(i / 1000) + (i < 0 ? 99 : 0)}`, now));
  const entry = d1.prepare('INSERT INTO home_timeline_entries (user_id, created_at, post_id) VALUES (?, ?, ?)');
  bytes.timelineEntry = perRow(d1, (i) => entry.run(`u${ulid((i % 1000) + 100)}`, now + i, ulid(i + 100)));

  const room = new DatabaseSync(':memory:');
  for (const sql of durableObjectSchema('messages')) room.exec(sql);
  const message = room.prepare(`INSERT INTO messages (id, sender_id, content, client_id, created_at) VALUES (?, ?, ?, ?, ?)`);
  bytes.message = perRow(room, (i) => message.run(ulid(i + 100), `u${ulid(i % 7)}`, text(60), `c${i}`, now + i));

  const inbox = new DatabaseSync(':memory:');
  for (const sql of durableObjectSchema('notifications')) inbox.exec(sql);
  const actor = JSON.stringify({ id: ulid(1), username: 'someone', display_name: 'Someone', avatar_url: null, bio: text(60), is_verified: false });
  const notification = inbox.prepare(`INSERT INTO notifications (seq, id, type, data, created_at, updated_at) VALUES (?, ?, 'post_like', ?, ?, ?)`);
  bytes.notification = perRow(inbox, (i) => notification.run(i + 100, ulid(i + 100), JSON.stringify({ post_id: ulid(2), user: actor }), now, now));
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// 2. The day.

function model(users, bytes) {
  const active = users * DAU;
  const day = 86_400;
  const peakPerSecond = (perDay) => (perDay / day) * PEAK;
  const posts = active * ACTIVITY.posts;
  const likes = active * ACTIVITY.likes;
  const comments = active * ACTIVITY.comments;
  const messages = active * ACTIVITY.messages;
  const follows = active * ACTIVITY.follows;
  const celebrityFollowers = Math.round(users * CELEBRITY_SHARE);
  // Timeline rows a post pushes: live timelines of its audience, for authors under the threshold.
  const pushedRows = posts * AVG_AUDIENCE * LIVE_TIMELINE_SHARE;
  // D1 statements (each a transaction on the single writer) and rows written per day.
  const d1Statements = posts * 3 /* post batch, fan-out push, notice read */ + likes + comments + follows + active * 1 /* timeline build */;
  const d1Rows = posts * 3 /* post, counter, own entry */ + pushedRows + likes * 2 /* like + counter */ + comments * 2 + follows * 3 + active * 30 /* timeline builds */;
  const notifications = active * ACTIVITY.notificationsReceived + posts * AVG_AUDIENCE;
  const storagePerDay = {
    d1: posts * bytes.post + likes * bytes.like + comments * bytes.post + follows * bytes.follow,
    timelines: active * 30 * bytes.timelineEntry + pushedRows * bytes.timelineEntry, // bounded: expire after 24 h
    doMessages: messages * bytes.message,
    doNotifications: notifications * bytes.notification, // bounded: 1,000 per inbox
  };
  // The celebrity: one post reaches celebrityFollowers; likes of it arrive at their inbox.
  const celebrityLikeShare = 0.05; // of their followers like a post, most within its first 10 minutes
  const celebrityInboxPerSecond = (celebrityFollowers * celebrityLikeShare * 0.7) / 600;
  // The community room: members online at the peak, each with one socket; messages per second in it.
  const roomOnline = COMMUNITY * 0.3;
  const roomMessagesPerSecond = (COMMUNITY * 0.02 * 10 * PEAK) / day; // 2% of members speak, 10 messages each a day
  return {
    users,
    active,
    peakD1StatementsPerSecond: peakPerSecond(d1Statements),
    peakD1RowsPerSecond: peakPerSecond(d1Rows),
    peakRequestsPerSecond: peakPerSecond(active * (ACTIVITY.homeReads + ACTIVITY.otherReads + ACTIVITY.posts + ACTIVITY.likes + ACTIVITY.comments)),
    inboxDeliveriesPerSecond: peakPerSecond(notifications),
    celebrityFollowers,
    celebrityInboxPerSecond,
    celebrityPostPushRows: Math.min(celebrityFollowers, PUSH_LIMIT) * LIVE_TIMELINE_SHARE,
    roomOnline,
    roomFramesPerSecond: roomMessagesPerSecond * roomOnline,
    storagePerDay,
    d1BytesPerYear: (storagePerDay.d1 * 365) + users * bytes.user + users * AVG_AUDIENCE * bytes.follow + storagePerDay.timelines,
    daily: { posts, likes, comments, messages, follows, notifications, d1Rows, d1Statements },
  };
}

function checks(m) {
  const flags = [];
  const flag = (ok, what, value, limit, answer) => flags.push({ ok, what, value, limit, answer });
  flag(m.peakD1StatementsPerSecond < LIMITS.d1StatementsPerSecond, 'D1 statements/s at the peak (one writer)', m.peakD1StatementsPerSecond, LIMITS.d1StatementsPerSecond, 'shard D1 by user id (docs/CAPACITY.md), move counters to batched writes');
  const daysTo10GB = LIMITS.d1Bytes / (m.storagePerDay.d1 || 1);
  flag(m.d1BytesPerYear < LIMITS.d1Bytes, 'D1 bytes after a year', m.d1BytesPerYear, LIMITS.d1Bytes, `full in about ${Math.round(daysTo10GB)} days of content: shard by user id; messages and notifications already live in Durable Objects`);
  flag(m.celebrityInboxPerSecond < LIMITS.doRequestsPerSecond, "a celebrity's inbox: deliveries/s after a post", m.celebrityInboxPerSecond, LIMITS.doRequestsPerSecond, 'likes fold into one grouped notification; above the limit, deliver through the queue in batches (one call per batch)');
  flag(m.roomOnline < LIMITS.doSockets, 'sockets in the largest community room', m.roomOnline, LIMITS.doSockets, 'split the room: one writer object orders messages, N fan-out objects hold ≤ 10,000 sockets each');
  flag(m.roomFramesPerSecond < 50_000, 'frames/s the largest room sends', m.roomFramesPerSecond, 50_000, 'same split: each fan-out object sends its share');
  return flags;
}

// ---------------------------------------------------------------------------------------------
// 3. Money.

function monthlyCost(m, bytes) {
  const month = 30;
  const over = (used, { included, perMillion }) => (Math.max(0, used - included) / 1e6) * perMillion;
  const requests = m.peakRequestsPerSecond / PEAK * 86_400 * month;
  const d1Storage = Math.min(m.d1BytesPerYear, 1e15) / 1e9;
  const doStorage = (m.storagePerDay.doMessages * 365 + m.users * 1000 * bytes.notification * 0.2) / 1e9;
  const lines = {
    'Workers subscription': PRICES.base,
    'Worker requests': over(requests, PRICES.workerRequests),
    'Worker CPU (3 ms a request)': over(requests * 3, PRICES.workerCpuMs),
    'D1 rows written': over(m.daily.d1Rows * month, PRICES.d1RowsWritten),
    'D1 rows read (≈ 60 a request)': over(requests * 60, PRICES.d1RowsRead),
    'D1 storage (a year of content)': Math.max(0, d1Storage - PRICES.d1StorageGb.included) * PRICES.d1StorageGb.perGb,
    'DO requests (inbox, rooms)': over((m.daily.notifications + m.daily.messages * 2) * month, PRICES.doRequests),
    // Objects that can hibernate (no pending work; sockets through the hibernation API) are not billed
    // while idle: about 50 ms of 128 MB per request.
    'DO duration (50 ms of 128 MB a request)': over((m.daily.notifications + m.daily.messages * 2) * month * 0.05 * 0.125, PRICES.doGbSeconds),
    'DO rows written': over((m.daily.notifications * 2 + m.daily.messages * 2) * month, PRICES.doRowsWritten),
    'DO storage (a year of messages, inboxes)': Math.max(0, doStorage - PRICES.doStorageGb.included) * PRICES.doStorageGb.perGb,
    'Queue operations (fan-out)': over((m.daily.posts * (1 + AVG_AUDIENCE / 50)) * 3 * month, PRICES.queueOps),
    'R2 (0.3 images a post, 200 KB)': Math.max(0, (m.daily.posts * 0.3 * 200e3 * 365) / 1e9 - PRICES.r2StorageGb.included) * PRICES.r2StorageGb.perGb + over(m.daily.posts * 0.3 * month, PRICES.r2ClassA) + over(requests * 0.5, PRICES.r2ClassB),
    'Analytics Engine (a point a request)': over(requests, PRICES.analyticsPoints),
  };
  return lines;
}

// ---------------------------------------------------------------------------------------------

const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(n >= 10 ? 1 : 2));
const gb = (b) => `${(b / 1e9).toFixed(2)} GB`;

const bytes = measureRows();
console.log('## Bytes per row (measured: real schema, tables and indexes)\n');
console.log('| row | bytes | lives in |');
console.log('|---|---:|---|');
for (const [kind, where] of [['user', 'D1'], ['post', 'D1'], ['like', 'D1'], ['follow', 'D1'], ['timelineEntry', 'D1 (expires after 24 h)'], ['message', 'ConversationRoom (DO)'], ['notification', 'UserInbox (DO, newest 1,000)']]) {
  console.log(`| ${kind} | ${bytes[kind]} | ${where} |`);
}

let crossed = 0;
for (const users of [USERS, SCALE]) {
  const m = model(users, bytes);
  console.log(`\n## A day of ${users.toLocaleString('en')} users (${fmt(m.active)} active)\n`);
  console.log('| measure | value |');
  console.log('|---|---:|');
  console.log(`| requests/s at the peak hour | ${fmt(m.peakRequestsPerSecond)} |`);
  console.log(`| D1 statements/s at the peak | ${fmt(m.peakD1StatementsPerSecond)} |`);
  console.log(`| D1 rows written/s at the peak | ${fmt(m.peakD1RowsPerSecond)} |`);
  console.log(`| inbox deliveries/s at the peak (all inboxes) | ${fmt(m.inboxDeliveriesPerSecond)} |`);
  console.log(`| celebrity: followers | ${fmt(m.celebrityFollowers)} |`);
  console.log(`| celebrity: deliveries/s into their inbox after a post | ${fmt(m.celebrityInboxPerSecond)} |`);
  console.log(`| celebrity: timeline rows one post writes (pulled above ${PUSH_LIMIT}) | ${fmt(m.celebrityFollowers > PUSH_LIMIT ? 1 : m.celebrityPostPushRows)} |`);
  console.log(`| largest community room: sockets at the peak | ${fmt(m.roomOnline)} |`);
  console.log(`| largest community room: frames/s sent | ${fmt(m.roomFramesPerSecond)} |`);
  console.log(`| D1 growth a day (content) | ${gb(m.storagePerDay.d1)} |`);
  console.log(`| D1 size after a year (users, follows, content, live timelines) | ${gb(m.d1BytesPerYear)} |`);
  console.log(`| Durable Object growth a day (messages) | ${gb(m.storagePerDay.doMessages)} |`);
  console.log(`\n### Limits (${users.toLocaleString('en')} users)\n`);
  console.log('| check | value | limit | holds | answer |');
  console.log('|---|---:|---:|:---:|---|');
  for (const c of checks(m)) {
    if (!c.ok) crossed++;
    console.log(`| ${c.what} | ${fmt(c.value)} | ${fmt(c.limit)} | ${c.ok ? 'yes' : '**NO**'} | ${c.ok ? '' : c.answer} |`);
  }
  const cost = monthlyCost(m, bytes);
  const total = Object.values(cost).reduce((a, b) => a + b, 0);
  console.log(`\n### Monthly cost (${users.toLocaleString('en')} users, Cloudflare's published prices)\n`);
  console.log('| item | USD |');
  console.log('|---|---:|');
  for (const [item, usd] of Object.entries(cost)) console.log(`| ${item} | ${usd.toFixed(2)} |`);
  console.log(`| **total** | **${total.toFixed(2)}** |`);
}
console.log(`\n${crossed} limit(s) crossed across the two sizes.`);
