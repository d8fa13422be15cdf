-- posts.comment_count and comments.reply_count leave out the comments of suspended accounts too, as the
-- threads do (visibleCommentSql hides them), the way migration 0040 made the follow, friend and like
-- counts agree with their lists: a suspended spam ring stops showing as comments over an empty thread.
-- The comment counting triggers skip a comment whose author is suspended; the suspension triggers of
-- 0040 gain the comment counts.
DROP TRIGGER comments_count_insert;
--> statement-breakpoint
CREATE TRIGGER comments_count_insert AFTER INSERT ON comments WHEN NEW.held = 0 AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = NEW.author_id AND s.suspended_at IS NOT NULL) BEGIN
  UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
  UPDATE comments SET reply_count = reply_count + 1 WHERE id = NEW.parent_id;
END;
--> statement-breakpoint
DROP TRIGGER comments_count_delete;
--> statement-breakpoint
CREATE TRIGGER comments_count_delete AFTER DELETE ON comments WHEN OLD.held = 0 AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = OLD.author_id AND s.suspended_at IS NOT NULL) BEGIN
  UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id;
  UPDATE comments SET reply_count = reply_count - 1 WHERE id = OLD.parent_id;
END;
--> statement-breakpoint
DROP TRIGGER comments_count_held;
--> statement-breakpoint
CREATE TRIGGER comments_count_held AFTER UPDATE OF held ON comments WHEN OLD.held != NEW.held AND NOT EXISTS (SELECT 1 FROM users s WHERE s.id = NEW.author_id AND s.suspended_at IS NOT NULL) BEGIN
  UPDATE posts SET comment_count = comment_count + (CASE WHEN NEW.held THEN -1 ELSE 1 END) WHERE id = NEW.post_id;
  UPDATE comments SET reply_count = reply_count + (CASE WHEN NEW.held THEN -1 ELSE 1 END) WHERE id = NEW.parent_id;
END;
--> statement-breakpoint
DROP TRIGGER users_suspended_uncounted;
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
  UPDATE posts SET comment_count = comment_count + -1 * (SELECT COUNT(*) FROM comments k WHERE k.post_id = posts.id AND k.author_id = NEW.id AND k.held = 0)
    WHERE id IN (SELECT post_id FROM comments WHERE author_id = NEW.id AND held = 0);
  UPDATE comments SET reply_count = reply_count + -1 * (SELECT COUNT(*) FROM comments r WHERE r.parent_id = comments.id AND r.author_id = NEW.id AND r.held = 0)
    WHERE id IN (SELECT parent_id FROM comments WHERE author_id = NEW.id AND held = 0 AND parent_id IS NOT NULL);
END;
--> statement-breakpoint
DROP TRIGGER users_unsuspended_counted;
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
  UPDATE posts SET comment_count = comment_count + 1 * (SELECT COUNT(*) FROM comments k WHERE k.post_id = posts.id AND k.author_id = NEW.id AND k.held = 0)
    WHERE id IN (SELECT post_id FROM comments WHERE author_id = NEW.id AND held = 0);
  UPDATE comments SET reply_count = reply_count + 1 * (SELECT COUNT(*) FROM comments r WHERE r.parent_id = comments.id AND r.author_id = NEW.id AND r.held = 0)
    WHERE id IN (SELECT parent_id FROM comments WHERE author_id = NEW.id AND held = 0 AND parent_id IS NOT NULL);
END;
--> statement-breakpoint
DROP TRIGGER users_suspended_delete_counted;
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
  UPDATE posts SET comment_count = comment_count + 1 * (SELECT COUNT(*) FROM comments k WHERE k.post_id = posts.id AND k.author_id = OLD.id AND k.held = 0)
    WHERE id IN (SELECT post_id FROM comments WHERE author_id = OLD.id AND held = 0);
  UPDATE comments SET reply_count = reply_count + 1 * (SELECT COUNT(*) FROM comments r WHERE r.parent_id = comments.id AND r.author_id = OLD.id AND r.held = 0)
    WHERE id IN (SELECT parent_id FROM comments WHERE author_id = OLD.id AND held = 0 AND parent_id IS NOT NULL);
END;
--> statement-breakpoint
-- Accounts suspended before this migration: their comments leave the counts now.
UPDATE posts SET comment_count = comment_count - (SELECT COUNT(*) FROM comments k JOIN users s ON s.id = k.author_id
  WHERE k.post_id = posts.id AND k.held = 0 AND s.suspended_at IS NOT NULL)
  WHERE id IN (SELECT k.post_id FROM users s JOIN comments k ON k.author_id = s.id WHERE s.suspended_at IS NOT NULL AND k.held = 0);
--> statement-breakpoint
UPDATE comments SET reply_count = reply_count - (SELECT COUNT(*) FROM comments r JOIN users s ON s.id = r.author_id
  WHERE r.parent_id = comments.id AND r.held = 0 AND s.suspended_at IS NOT NULL)
  WHERE id IN (SELECT r.parent_id FROM users s JOIN comments r ON r.author_id = s.id WHERE s.suspended_at IS NOT NULL AND r.held = 0 AND r.parent_id IS NOT NULL);
