import type { Middleware } from 'openapi-fetch';

/** The header D1 read replication travels in (D1 Sessions API): the server sends it, the client sends it back. */
export const BOOKMARK_HEADER = 'X-D1-Bookmark';

/** D1's own bookmark (hex groups 8-8-8-32), optionally followed by the server's `.signature`. */
const D1_BOOKMARK = /^([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32})(?:\..*)?$/;

/**
 * The newest bookmark the client has seen. D1 bookmarks are fixed-width hex, so their string order is
 * their commit order: an answer that arrives late (a read that started before a write finished) never
 * takes the client back to an older one. A value of any other shape simply replaces the last one.
 */
export class BookmarkStore {
  #value: string | null;
  readonly #onChange: ((bookmark: string) => void) | undefined;

  constructor(initial: string | null = null, onChange?: (bookmark: string) => void) {
    this.#value = initial;
    this.#onChange = onChange;
  }

  get value(): string | null {
    return this.#value;
  }

  /** Remembers a bookmark from an answer (`null`, an empty or an older one changes nothing). */
  remember(bookmark: string | null): void {
    if (!bookmark || bookmark === this.#value) return;
    const next = D1_BOOKMARK.exec(bookmark)?.[1];
    const current = this.#value === null ? undefined : D1_BOOKMARK.exec(this.#value)?.[1];
    if (next !== undefined && current !== undefined && next < current) return;
    this.#value = bookmark;
    this.#onChange?.(bookmark);
  }

  /** Sets the header on a request about to go out (unless the caller set one). */
  apply(request: Request): void {
    if (this.#value !== null && !request.headers.has(BOOKMARK_HEADER)) request.headers.set(BOOKMARK_HEADER, this.#value);
  }
}

/**
 * openapi-fetch middleware: every request carries the last bookmark, every answer's bookmark is
 * remembered, so a client reads at least what it wrote from whichever replica serves it. Harmless
 * against a server that sends none (nothing is remembered, nothing is sent).
 */
export function bookmarkMiddleware(store: BookmarkStore): Middleware {
  return {
    onRequest({ request }) {
      store.apply(request);
      return request;
    },
    onResponse({ response }) {
      store.remember(response.headers.get(BOOKMARK_HEADER));
    },
  };
}
