-- Professional posts (posts.space = 'professional', set at creation and never changed) belong to the
-- professional feed, never to a home feed: the home pull query skips them (HOME_FEED_SQL), so the
-- triggers that fan a post out into materialised home timelines (0008) must skip them too. Same bodies
-- as 0008, with the space in the WHEN clause.
DROP TRIGGER home_timeline_post_insert;
--> statement-breakpoint
CREATE TRIGGER home_timeline_post_insert AFTER INSERT ON posts
  WHEN NEW.space = 'personal' AND EXISTS (SELECT 1 FROM home_timelines) BEGIN
  INSERT OR IGNORE INTO home_timeline_entries (user_id, created_at, post_id)
  SELECT h.user_id, NEW.created_at, NEW.id
  FROM (
    SELECT NEW.author_id AS id
    UNION SELECT follower_id FROM follows WHERE followee_id = NEW.author_id AND status = 'accepted' AND NEW.visibility = 'public'
    UNION SELECT friend_id FROM friendships WHERE user_id = NEW.author_id AND NEW.visibility IN ('public', 'friends')
    UNION SELECT user_id FROM community_members WHERE community_id = NEW.community_id AND role != 'pending'
  ) a
  JOIN home_timelines h ON h.user_id = a.id
  WHERE h.expires_at > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    AND (NEW.created_at, NEW.id) >= (h.floor_at, h.floor_id);
END;
--> statement-breakpoint
DROP TRIGGER home_timeline_post_visibility;
--> statement-breakpoint
CREATE TRIGGER home_timeline_post_visibility AFTER UPDATE OF visibility ON posts
  WHEN OLD.visibility != NEW.visibility AND NEW.space = 'personal' BEGIN
  DELETE FROM home_timeline_entries WHERE post_id = NEW.id;
  INSERT OR IGNORE INTO home_timeline_entries (user_id, created_at, post_id)
  SELECT h.user_id, NEW.created_at, NEW.id
  FROM (
    SELECT NEW.author_id AS id
    UNION SELECT follower_id FROM follows WHERE followee_id = NEW.author_id AND status = 'accepted' AND NEW.visibility = 'public'
    UNION SELECT friend_id FROM friendships WHERE user_id = NEW.author_id AND NEW.visibility IN ('public', 'friends')
    UNION SELECT user_id FROM community_members WHERE community_id = NEW.community_id AND role != 'pending'
  ) a
  JOIN home_timelines h ON h.user_id = a.id
  WHERE h.expires_at > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    AND (NEW.created_at, NEW.id) >= (h.floor_at, h.floor_id);
END;
