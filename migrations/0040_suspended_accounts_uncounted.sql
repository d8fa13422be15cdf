-- Follower, following and friend counts and posts' like counts leave out suspended accounts, as the
-- lists they count do (a suspended account is hidden everywhere): a follow farm or a like ring that is
-- suspended stops inflating the numbers it was bought for. The counting triggers skip a row whose other
-- side is suspended; a suspension (or its end, by a moderator or at its expiry) takes the account's
-- rows out of (or back into) every count it is in; deleting a suspended account first puts them back,
-- so the cascade's own decrements balance (the deleted row is already gone when they run).
DROP TRIGGER follows_count_insert;
--> statement-breakpoint
CREATE TRIGGER follows_count_insert AFTER INSERT ON follows WHEN NEW.status = 'accepted' BEGIN
  UPDATE users SET following_count = following_count + 1 WHERE id = NEW.follower_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = NEW.followee_id AND s.suspended_at IS NOT NULL);
  UPDATE users SET followers_count = followers_count + 1 WHERE id = NEW.followee_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = NEW.follower_id AND s.suspended_at IS NOT NULL);
END;
--> statement-breakpoint
DROP TRIGGER follows_count_accept;
--> statement-breakpoint
CREATE TRIGGER follows_count_accept AFTER UPDATE OF status ON follows WHEN OLD.status = 'pending' AND NEW.status = 'accepted' BEGIN
  UPDATE users SET following_count = following_count + 1 WHERE id = NEW.follower_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = NEW.followee_id AND s.suspended_at IS NOT NULL);
  UPDATE users SET followers_count = followers_count + 1 WHERE id = NEW.followee_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = NEW.follower_id AND s.suspended_at IS NOT NULL);
END;
--> statement-breakpoint
DROP TRIGGER follows_count_delete;
--> statement-breakpoint
CREATE TRIGGER follows_count_delete AFTER DELETE ON follows WHEN OLD.status = 'accepted' BEGIN
  UPDATE users SET following_count = following_count - 1 WHERE id = OLD.follower_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = OLD.followee_id AND s.suspended_at IS NOT NULL);
  UPDATE users SET followers_count = followers_count - 1 WHERE id = OLD.followee_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = OLD.follower_id AND s.suspended_at IS NOT NULL);
END;
--> statement-breakpoint
DROP TRIGGER friendships_count_insert;
--> statement-breakpoint
CREATE TRIGGER friendships_count_insert AFTER INSERT ON friendships BEGIN
  UPDATE users SET friends_count = friends_count + 1 WHERE id = NEW.user_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = NEW.friend_id AND s.suspended_at IS NOT NULL);
END;
--> statement-breakpoint
DROP TRIGGER friendships_count_delete;
--> statement-breakpoint
CREATE TRIGGER friendships_count_delete AFTER DELETE ON friendships BEGIN
  UPDATE users SET friends_count = friends_count - 1 WHERE id = OLD.user_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = OLD.friend_id AND s.suspended_at IS NOT NULL);
END;
--> statement-breakpoint
DROP TRIGGER likes_count_insert;
--> statement-breakpoint
CREATE TRIGGER likes_count_insert AFTER INSERT ON likes BEGIN
  UPDATE posts SET like_count = like_count + 1 WHERE id = NEW.post_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = NEW.user_id AND s.suspended_at IS NOT NULL);
END;
--> statement-breakpoint
DROP TRIGGER likes_count_delete;
--> statement-breakpoint
CREATE TRIGGER likes_count_delete AFTER DELETE ON likes BEGIN
  UPDATE posts SET like_count = like_count - 1 WHERE id = OLD.post_id AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = OLD.user_id AND s.suspended_at IS NOT NULL);
END;
--> statement-breakpoint
CREATE TRIGGER users_suspended_uncounted AFTER UPDATE OF suspended_at ON users
WHEN OLD.suspended_at IS NULL AND NEW.suspended_at IS NOT NULL BEGIN
  UPDATE users SET followers_count = followers_count + -1
    WHERE id IN (SELECT followee_id FROM follows WHERE follower_id = NEW.id AND status = 'accepted');
  UPDATE users SET following_count = following_count + -1
    WHERE id IN (SELECT follower_id FROM follows WHERE followee_id = NEW.id AND status = 'accepted');
  UPDATE users SET friends_count = friends_count + -1
    WHERE id IN (SELECT user_id FROM friendships WHERE friend_id = NEW.id);
  UPDATE posts SET like_count = like_count + -1
    WHERE id IN (SELECT post_id FROM likes WHERE user_id = NEW.id);
END;
--> statement-breakpoint
CREATE TRIGGER users_unsuspended_counted AFTER UPDATE OF suspended_at ON users
WHEN OLD.suspended_at IS NOT NULL AND NEW.suspended_at IS NULL BEGIN
  UPDATE users SET followers_count = followers_count + 1
    WHERE id IN (SELECT followee_id FROM follows WHERE follower_id = NEW.id AND status = 'accepted');
  UPDATE users SET following_count = following_count + 1
    WHERE id IN (SELECT follower_id FROM follows WHERE followee_id = NEW.id AND status = 'accepted');
  UPDATE users SET friends_count = friends_count + 1
    WHERE id IN (SELECT user_id FROM friendships WHERE friend_id = NEW.id);
  UPDATE posts SET like_count = like_count + 1
    WHERE id IN (SELECT post_id FROM likes WHERE user_id = NEW.id);
END;
--> statement-breakpoint
CREATE TRIGGER users_suspended_delete_counted BEFORE DELETE ON users WHEN OLD.suspended_at IS NOT NULL BEGIN
  UPDATE users SET followers_count = followers_count + 1
    WHERE id IN (SELECT followee_id FROM follows WHERE follower_id = OLD.id AND status = 'accepted');
  UPDATE users SET following_count = following_count + 1
    WHERE id IN (SELECT follower_id FROM follows WHERE followee_id = OLD.id AND status = 'accepted');
  UPDATE users SET friends_count = friends_count + 1
    WHERE id IN (SELECT user_id FROM friendships WHERE friend_id = OLD.id);
  UPDATE posts SET like_count = like_count + 1
    WHERE id IN (SELECT post_id FROM likes WHERE user_id = OLD.id);
END;
--> statement-breakpoint
-- Accounts suspended before this migration: their rows leave the counts now.
UPDATE users SET followers_count = followers_count - (SELECT COUNT(*) FROM follows f JOIN users s ON s.id = f.follower_id
  WHERE f.followee_id = users.id AND f.status = 'accepted' AND s.suspended_at IS NOT NULL)
  WHERE id IN (SELECT f.followee_id FROM follows f JOIN users s ON s.id = f.follower_id WHERE f.status = 'accepted' AND s.suspended_at IS NOT NULL);
--> statement-breakpoint
UPDATE users SET following_count = following_count - (SELECT COUNT(*) FROM follows f JOIN users s ON s.id = f.followee_id
  WHERE f.follower_id = users.id AND f.status = 'accepted' AND s.suspended_at IS NOT NULL)
  WHERE id IN (SELECT f.follower_id FROM follows f JOIN users s ON s.id = f.followee_id WHERE f.status = 'accepted' AND s.suspended_at IS NOT NULL);
--> statement-breakpoint
UPDATE users SET friends_count = friends_count - (SELECT COUNT(*) FROM friendships k JOIN users s ON s.id = k.friend_id
  WHERE k.user_id = users.id AND s.suspended_at IS NOT NULL)
  WHERE id IN (SELECT k.user_id FROM friendships k JOIN users s ON s.id = k.friend_id WHERE s.suspended_at IS NOT NULL);
--> statement-breakpoint
UPDATE posts SET like_count = like_count - (SELECT COUNT(*) FROM likes l JOIN users s ON s.id = l.user_id
  WHERE l.post_id = posts.id AND s.suspended_at IS NOT NULL)
  WHERE id IN (SELECT l.post_id FROM likes l JOIN users s ON s.id = l.user_id WHERE s.suspended_at IS NOT NULL);
