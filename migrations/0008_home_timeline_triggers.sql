-- Home timelines (src/db/schema/feeds.ts, src/modules/feeds/home-timeline.ts): fan-out on write into
-- the live timelines of a post's audience, and invalidation when what a reader's feed draws from
-- changes. "Live" is judged by D1's own clock, as the reads and builds do.
--
-- A new post joins the live timelines of exactly the readers whose pull query (HOME_FEED_SQL) returns
-- it: its author; accepted followers if it is public; friends if it is public or friends-only; approved
-- members of its community. Mutes are applied when reading. Only timelines whose floor the post sorts
-- at or above take it (a back-dated import below a floor is the pull query's business). The WHEN
-- clause keeps bulk imports cheap: with no timelines there is no audience to look up.
CREATE TRIGGER home_timeline_post_insert AFTER INSERT ON posts WHEN EXISTS (SELECT 1 FROM home_timelines) BEGIN
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
-- A post whose visibility changes leaves every timeline and joins those of its new audience (the same
-- audience as above: SQLite triggers cannot share a body, so the two must change together).
CREATE TRIGGER home_timeline_post_visibility AFTER UPDATE OF visibility ON posts WHEN OLD.visibility != NEW.visibility BEGIN
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
--> statement-breakpoint
-- Whatever changes the accounts or communities a reader's feed draws from drops their timeline (its
-- entries go with it, by cascade); the next home read rebuilds it from the pull query.
CREATE TRIGGER home_timeline_follow_insert AFTER INSERT ON follows WHEN NEW.status = 'accepted' BEGIN
  DELETE FROM home_timelines WHERE user_id = NEW.follower_id;
END;
--> statement-breakpoint
CREATE TRIGGER home_timeline_follow_update AFTER UPDATE OF status ON follows WHEN OLD.status != NEW.status BEGIN
  DELETE FROM home_timelines WHERE user_id = NEW.follower_id;
END;
--> statement-breakpoint
CREATE TRIGGER home_timeline_follow_delete AFTER DELETE ON follows WHEN OLD.status = 'accepted' BEGIN
  DELETE FROM home_timelines WHERE user_id = OLD.follower_id;
END;
--> statement-breakpoint
CREATE TRIGGER home_timeline_friendship_insert AFTER INSERT ON friendships BEGIN
  DELETE FROM home_timelines WHERE user_id = NEW.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER home_timeline_friendship_delete AFTER DELETE ON friendships BEGIN
  DELETE FROM home_timelines WHERE user_id = OLD.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER home_timeline_member_insert AFTER INSERT ON community_members WHEN NEW.role != 'pending' BEGIN
  DELETE FROM home_timelines WHERE user_id = NEW.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER home_timeline_member_update AFTER UPDATE OF role ON community_members
  WHEN (OLD.role = 'pending') != (NEW.role = 'pending') BEGIN
  DELETE FROM home_timelines WHERE user_id = NEW.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER home_timeline_member_delete AFTER DELETE ON community_members WHEN OLD.role != 'pending' BEGIN
  DELETE FROM home_timelines WHERE user_id = OLD.user_id;
END;
--> statement-breakpoint
-- Muted authors stay in timelines (reads skip them), except that a timeline built while the mute held
-- lacks their posts: unmuting drops it.
CREATE TRIGGER home_timeline_unmute AFTER DELETE ON mutes BEGIN
  DELETE FROM home_timelines WHERE user_id = OLD.muter_id;
END;
