// The README's quickstart with @kith/client: `npm run quickstart` while `npm run dev` serves the API
// (another origin: `npm run quickstart -- http://127.0.0.1:9000`). Runs on the project's Node 24,
// which runs TypeScript as it is.
import { createKithClient, type NotificationFrame } from '@kith/client';

declare const process: { argv: string[] };
const baseUrl = process.argv[2] ?? 'http://localhost:8787';
const password = 'correct horse battery';
const kith = createKithClient({ baseUrl });

// Register: the client keeps the tokens it is given, sends the access token, and refreshes it (once,
// however many requests notice at the same time) when it expires.
const username = `ada_${Date.now().toString(36)}`;
const signUp = await kith.api.POST('/api/v1/auth/register', { body: { email: `${username}@example.com`, username, password } });
if (!signUp.data) throw new Error(`register: ${signUp.response.status} ${signUp.error?.detail}`);
// Or log in to an account you have (the same tokens, kept the same way).
await kith.api.POST('/api/v1/auth/login', { body: { login: username, password } });

// Live notifications: a socket that reconnects by itself and resumes where it stopped.
const notifications: NotificationFrame[] = [];
const inbox = kith.notifications({ onNotification: (n) => notifications.push(n) });
await inbox.opened();

// Post, then read the home feed (typed: `post.author.username`, `post.like_count`, ...).
const post = await kith.api.POST('/api/v1/posts', { body: { content: 'Hello, Kith!', visibility: 'public' } });
console.log(`posted ${post.data?.id}`);
const feed = await kith.api.GET('/api/v1/feed/home', { params: { query: { limit: 10 } } });
for (const item of feed.data?.data ?? []) console.log(`  @${item.author.username}: ${item.content} (${item.like_count} likes)`);

// A second account likes the post: the notification arrives on the socket.
const friend = createKithClient({ baseUrl });
const friendName = `bob_${Date.now().toString(36)}`;
await friend.api.POST('/api/v1/auth/register', { body: { email: `${friendName}@example.com`, username: friendName, password } });
await friend.api.POST('/api/v1/posts/{id}/like', { params: { path: { id: post.data?.id ?? '' } } });
for (let waited = 0; notifications.length === 0 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
for (const n of notifications) console.log(`notification: ${n.type} ${JSON.stringify(n.data).slice(0, 100)}`);
inbox.close();
