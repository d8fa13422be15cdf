-- Hybrid home timelines (src/modules/feeds/hybrid.ts). A new post no longer reaches its audience's
-- timelines inside its own transaction: POST /posts writes only the author's own entry, and the fan-out
-- queue (src/queues/fanout.ts) pushes it to the rest of its audience afterwards, unless its author or
-- community crossed the push threshold, in which case readers pull it (home_timelines.pulls). So the
-- insert trigger goes.
DROP TRIGGER home_timeline_post_insert;
--> statement-breakpoint
-- A post whose visibility changes leaves every timeline at once (its old audience may no longer see it)
-- and returns to its author's own; the rest of its new audience gets it back through the fan-out queue
-- (updatePost queues it), like a new post.
DROP TRIGGER home_timeline_post_visibility;
--> statement-breakpoint
CREATE TRIGGER home_timeline_post_visibility AFTER UPDATE OF visibility ON posts
  WHEN OLD.visibility != NEW.visibility AND NEW.space = 'personal' BEGIN
  DELETE FROM home_timeline_entries WHERE post_id = NEW.id;
  INSERT OR IGNORE INTO home_timeline_entries (user_id, created_at, post_id)
  SELECT h.user_id, NEW.created_at, NEW.id FROM home_timelines h
  WHERE h.user_id = NEW.author_id AND h.expires_at > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    AND (NEW.created_at, NEW.id) >= (h.floor_at, h.floor_id);
END;
