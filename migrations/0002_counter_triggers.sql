-- Counters (posts.like_count, posts.comment_count, comments.reply_count, users.*_count) are kept by
-- triggers: they change in the same statement, and so the same transaction, as the rows they count,
-- whatever the code path (including cascades when an account is deleted). Clients can never write them.
CREATE TRIGGER likes_count_insert AFTER INSERT ON likes BEGIN
  UPDATE posts SET like_count = like_count + 1 WHERE id = NEW.post_id;
END;
--> statement-breakpoint
CREATE TRIGGER likes_count_delete AFTER DELETE ON likes BEGIN
  UPDATE posts SET like_count = like_count - 1 WHERE id = OLD.post_id;
END;
--> statement-breakpoint
CREATE TRIGGER comments_count_insert AFTER INSERT ON comments BEGIN
  UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
  UPDATE comments SET reply_count = reply_count + 1 WHERE id = NEW.parent_id;
END;
--> statement-breakpoint
CREATE TRIGGER comments_count_delete AFTER DELETE ON comments BEGIN
  UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id;
  UPDATE comments SET reply_count = reply_count - 1 WHERE id = OLD.parent_id;
END;
--> statement-breakpoint
CREATE TRIGGER posts_count_insert AFTER INSERT ON posts BEGIN
  UPDATE users SET posts_count = posts_count + 1 WHERE id = NEW.author_id;
END;
--> statement-breakpoint
CREATE TRIGGER posts_count_delete AFTER DELETE ON posts BEGIN
  UPDATE users SET posts_count = posts_count - 1 WHERE id = OLD.author_id;
END;
--> statement-breakpoint
CREATE TRIGGER follows_count_insert AFTER INSERT ON follows WHEN NEW.status = 'accepted' BEGIN
  UPDATE users SET following_count = following_count + 1 WHERE id = NEW.follower_id;
  UPDATE users SET followers_count = followers_count + 1 WHERE id = NEW.followee_id;
END;
--> statement-breakpoint
CREATE TRIGGER follows_count_accept AFTER UPDATE OF status ON follows WHEN OLD.status = 'pending' AND NEW.status = 'accepted' BEGIN
  UPDATE users SET following_count = following_count + 1 WHERE id = NEW.follower_id;
  UPDATE users SET followers_count = followers_count + 1 WHERE id = NEW.followee_id;
END;
--> statement-breakpoint
CREATE TRIGGER follows_count_delete AFTER DELETE ON follows WHEN OLD.status = 'accepted' BEGIN
  UPDATE users SET following_count = following_count - 1 WHERE id = OLD.follower_id;
  UPDATE users SET followers_count = followers_count - 1 WHERE id = OLD.followee_id;
END;
--> statement-breakpoint
CREATE TRIGGER friendships_count_insert AFTER INSERT ON friendships BEGIN
  UPDATE users SET friends_count = friends_count + 1 WHERE id = NEW.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER friendships_count_delete AFTER DELETE ON friendships BEGIN
  UPDATE users SET friends_count = friends_count - 1 WHERE id = OLD.user_id;
END;
