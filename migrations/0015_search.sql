-- Full-text search (src/modules/search/): FTS5 external-content indexes over users, posts, tags and
-- communities, kept in sync by triggers in the same transaction as the rows they index. Each index
-- stores only its terms; the text stays in its table, and rows are found by rowid. Every index uses
-- `unicode61 remove_diacritics 2` (accent- and case-insensitive); the ones typeahead reads (users, tags,
-- communities) also keep prefix indexes for 2 and 3 characters, so `ad*` reads one prefix list.
-- An external-content index must be told the exact old values of a row it drops; FTS5's
-- `integrity-check` (with rank 1) compares it with its content, and test/search/fts-sync.test.ts runs it
-- after every kind of change. `INSERT INTO x(x) VALUES('rebuild')` rebuilds any of them from its content.

-- Users: username, display name, bio, and the professional headline where search may show it (the
-- profile and the account both public, as GET /users/{id}/professional decides for strangers). The view
-- is the index's content, and every trigger reads the values it indexes through it, so the headline
-- rule lives in this one place.
CREATE VIEW users_search_content AS
  SELECT u.rowid AS rid, u.username, u.display_name, u.bio,
    (SELECT pp.headline FROM professional_profiles pp WHERE pp.user_id = u.id AND pp.visibility = 'public' AND u.visibility = 'public') AS headline
  FROM users u;
--> statement-breakpoint
CREATE VIRTUAL TABLE users_fts USING fts5(username, display_name, bio, headline, content='users_search_content', content_rowid='rid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
--> statement-breakpoint
CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
  INSERT INTO users_fts (rowid, username, display_name, bio, headline)
  SELECT rid, username, display_name, bio, headline FROM users_search_content WHERE rid = NEW.rowid;
END;
--> statement-breakpoint
-- Old values are read BEFORE the change (through the view, which still shows them) and new ones after.
-- BEFORE triggers here only write the index, never the row being changed.
CREATE TRIGGER users_fts_update_old BEFORE UPDATE OF username, display_name, bio, visibility ON users
  WHEN OLD.username IS NOT NEW.username OR OLD.display_name IS NOT NEW.display_name OR OLD.bio IS NOT NEW.bio OR OLD.visibility IS NOT NEW.visibility BEGIN
  INSERT INTO users_fts (users_fts, rowid, username, display_name, bio, headline)
  SELECT 'delete', rid, username, display_name, bio, headline FROM users_search_content WHERE rid = OLD.rowid;
END;
--> statement-breakpoint
CREATE TRIGGER users_fts_update_new AFTER UPDATE OF username, display_name, bio, visibility ON users
  WHEN OLD.username IS NOT NEW.username OR OLD.display_name IS NOT NEW.display_name OR OLD.bio IS NOT NEW.bio OR OLD.visibility IS NOT NEW.visibility BEGIN
  INSERT INTO users_fts (rowid, username, display_name, bio, headline)
  SELECT rid, username, display_name, bio, headline FROM users_search_content WHERE rid = NEW.rowid;
END;
--> statement-breakpoint
-- BEFORE DELETE: the professional profile (cascade-deleted with the account) still holds the headline.
CREATE TRIGGER users_fts_delete BEFORE DELETE ON users BEGIN
  INSERT INTO users_fts (users_fts, rowid, username, display_name, bio, headline)
  SELECT 'delete', rid, username, display_name, bio, headline FROM users_search_content WHERE rid = OLD.rowid;
END;
--> statement-breakpoint
-- A new profile: the account was indexed without a headline. (No BEFORE INSERT trigger: an upsert that
-- hits the existing row would fire it and then the UPDATE triggers, dropping the entry twice.)
CREATE TRIGGER professional_fts_insert AFTER INSERT ON professional_profiles BEGIN
  INSERT INTO users_fts (users_fts, rowid, username, display_name, bio, headline)
  SELECT 'delete', rid, username, display_name, bio, NULL FROM users_search_content WHERE rid = (SELECT rowid FROM users WHERE id = NEW.user_id);
  INSERT INTO users_fts (rowid, username, display_name, bio, headline)
  SELECT rid, username, display_name, bio, headline FROM users_search_content WHERE rid = (SELECT rowid FROM users WHERE id = NEW.user_id);
END;
--> statement-breakpoint
CREATE TRIGGER professional_fts_update_old BEFORE UPDATE OF headline, visibility ON professional_profiles
  WHEN OLD.headline IS NOT NEW.headline OR OLD.visibility IS NOT NEW.visibility BEGIN
  INSERT INTO users_fts (users_fts, rowid, username, display_name, bio, headline)
  SELECT 'delete', rid, username, display_name, bio, headline FROM users_search_content WHERE rid = (SELECT rowid FROM users WHERE id = OLD.user_id);
END;
--> statement-breakpoint
CREATE TRIGGER professional_fts_update_new AFTER UPDATE OF headline, visibility ON professional_profiles
  WHEN OLD.headline IS NOT NEW.headline OR OLD.visibility IS NOT NEW.visibility BEGIN
  INSERT INTO users_fts (rowid, username, display_name, bio, headline)
  SELECT rid, username, display_name, bio, headline FROM users_search_content WHERE rid = (SELECT rowid FROM users WHERE id = NEW.user_id);
END;
--> statement-breakpoint
-- When the account itself is being deleted, its entry is already gone and the view finds no row.
CREATE TRIGGER professional_fts_delete_old BEFORE DELETE ON professional_profiles BEGIN
  INSERT INTO users_fts (users_fts, rowid, username, display_name, bio, headline)
  SELECT 'delete', rid, username, display_name, bio, headline FROM users_search_content WHERE rid = (SELECT rowid FROM users WHERE id = OLD.user_id);
END;
--> statement-breakpoint
CREATE TRIGGER professional_fts_delete_new AFTER DELETE ON professional_profiles BEGIN
  INSERT INTO users_fts (rowid, username, display_name, bio, headline)
  SELECT rid, username, display_name, bio, headline FROM users_search_content WHERE rid = (SELECT rowid FROM users WHERE id = OLD.user_id);
END;
--> statement-breakpoint
INSERT INTO users_fts (users_fts) VALUES ('rebuild');
--> statement-breakpoint
-- Posts: the content (hashtags included, as words). No prefix index: post search matches whole words,
-- and every post written pays for the index.
CREATE VIRTUAL TABLE posts_fts USING fts5(content, content='posts', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
  INSERT INTO posts_fts (rowid, content) VALUES (NEW.rowid, NEW.content);
END;
--> statement-breakpoint
CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
  INSERT INTO posts_fts (posts_fts, rowid, content) VALUES ('delete', OLD.rowid, OLD.content);
END;
--> statement-breakpoint
CREATE TRIGGER posts_fts_update AFTER UPDATE OF content ON posts WHEN OLD.content IS NOT NEW.content BEGIN
  INSERT INTO posts_fts (posts_fts, rowid, content) VALUES ('delete', OLD.rowid, OLD.content);
  INSERT INTO posts_fts (rowid, content) VALUES (NEW.rowid, NEW.content);
END;
--> statement-breakpoint
INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');
--> statement-breakpoint
-- Tags in use: post_tags keeps each tag's row in `tags` (created with its first post, deleted with its
-- last), and tags_fts indexes their names for GET /search?type=tags.
CREATE TRIGGER post_tags_count_insert AFTER INSERT ON post_tags BEGIN
  INSERT INTO tags (tag, post_count, last_used_at) VALUES (NEW.tag, 1, NEW.created_at)
  ON CONFLICT (tag) DO UPDATE SET post_count = post_count + 1, last_used_at = MAX(last_used_at, excluded.last_used_at);
END;
--> statement-breakpoint
CREATE TRIGGER post_tags_count_delete AFTER DELETE ON post_tags BEGIN
  UPDATE tags SET post_count = post_count - 1 WHERE tag = OLD.tag;
  DELETE FROM tags WHERE tag = OLD.tag AND post_count <= 0;
END;
--> statement-breakpoint
CREATE VIRTUAL TABLE tags_fts USING fts5(tag, content='tags', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
--> statement-breakpoint
CREATE TRIGGER tags_fts_insert AFTER INSERT ON tags BEGIN
  INSERT INTO tags_fts (rowid, tag) VALUES (NEW.rowid, NEW.tag);
END;
--> statement-breakpoint
CREATE TRIGGER tags_fts_delete AFTER DELETE ON tags BEGIN
  INSERT INTO tags_fts (tags_fts, rowid, tag) VALUES ('delete', OLD.rowid, OLD.tag);
END;
--> statement-breakpoint
-- Communities: the index of migration 0006 becomes external-content like the others (same columns,
-- with prefix indexes for typeahead); it is rebuilt from the communities table.
DROP TRIGGER communities_fts_insert;
--> statement-breakpoint
DROP TRIGGER communities_fts_delete;
--> statement-breakpoint
DROP TRIGGER communities_fts_update;
--> statement-breakpoint
DROP TABLE communities_fts;
--> statement-breakpoint
CREATE VIRTUAL TABLE communities_fts USING fts5(name, description, content='communities', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
--> statement-breakpoint
CREATE TRIGGER communities_fts_insert AFTER INSERT ON communities BEGIN
  INSERT INTO communities_fts (rowid, name, description) VALUES (NEW.rowid, NEW.name, NEW.description);
END;
--> statement-breakpoint
CREATE TRIGGER communities_fts_delete AFTER DELETE ON communities BEGIN
  INSERT INTO communities_fts (communities_fts, rowid, name, description) VALUES ('delete', OLD.rowid, OLD.name, OLD.description);
END;
--> statement-breakpoint
CREATE TRIGGER communities_fts_update AFTER UPDATE OF name, description ON communities
  WHEN OLD.name IS NOT NEW.name OR OLD.description IS NOT NEW.description BEGIN
  INSERT INTO communities_fts (communities_fts, rowid, name, description) VALUES ('delete', OLD.rowid, OLD.name, OLD.description);
  INSERT INTO communities_fts (rowid, name, description) VALUES (NEW.rowid, NEW.name, NEW.description);
END;
--> statement-breakpoint
INSERT INTO communities_fts (communities_fts) VALUES ('rebuild');
--> statement-breakpoint
-- Suggestions (src/modules/suggestions/) are cached per user for 10 minutes; whatever changes a user's
-- graph drops their cached list in the same transaction, and the next read recomputes it. Both sides
-- of an edge lose theirs: a request or follow in either direction is an exclusion for both.
CREATE TRIGGER suggestion_cache_follow_insert AFTER INSERT ON follows BEGIN
  DELETE FROM suggestion_cache WHERE user_id IN (NEW.follower_id, NEW.followee_id);
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_follow_update AFTER UPDATE OF status ON follows BEGIN
  DELETE FROM suggestion_cache WHERE user_id IN (NEW.follower_id, NEW.followee_id);
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_follow_delete AFTER DELETE ON follows BEGIN
  DELETE FROM suggestion_cache WHERE user_id IN (OLD.follower_id, OLD.followee_id);
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_friendship_insert AFTER INSERT ON friendships BEGIN
  DELETE FROM suggestion_cache WHERE user_id = NEW.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_friendship_delete AFTER DELETE ON friendships BEGIN
  DELETE FROM suggestion_cache WHERE user_id = OLD.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_request_insert AFTER INSERT ON friend_requests BEGIN
  DELETE FROM suggestion_cache WHERE user_id IN (NEW.from_user_id, NEW.to_user_id);
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_request_update AFTER UPDATE OF status ON friend_requests BEGIN
  DELETE FROM suggestion_cache WHERE user_id IN (NEW.from_user_id, NEW.to_user_id);
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_block_insert AFTER INSERT ON blocks BEGIN
  DELETE FROM suggestion_cache WHERE user_id IN (NEW.blocker_id, NEW.blocked_id);
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_block_delete AFTER DELETE ON blocks BEGIN
  DELETE FROM suggestion_cache WHERE user_id IN (OLD.blocker_id, OLD.blocked_id);
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_member_insert AFTER INSERT ON community_members BEGIN
  DELETE FROM suggestion_cache WHERE user_id = NEW.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_member_update AFTER UPDATE OF role ON community_members BEGIN
  DELETE FROM suggestion_cache WHERE user_id = NEW.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_member_delete AFTER DELETE ON community_members BEGIN
  DELETE FROM suggestion_cache WHERE user_id = OLD.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_dismissal AFTER INSERT ON suggestion_dismissals BEGIN
  DELETE FROM suggestion_cache WHERE user_id = NEW.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER suggestion_cache_place AFTER UPDATE OF location_country, location_region, location_city ON users BEGIN
  DELETE FROM suggestion_cache WHERE user_id = NEW.id;
END;
