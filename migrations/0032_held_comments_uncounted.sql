-- A held comment (a keyword rule's or a spam hold) is seen by its author and staff only, so the counters
-- everyone reads (posts.comment_count, comments.reply_count) leave it out until it is released: before,
-- a post showed "1 comment" over an empty list, telling everyone that something was held there.
DROP TRIGGER comments_count_insert;
--> statement-breakpoint
DROP TRIGGER comments_count_delete;
--> statement-breakpoint
CREATE TRIGGER comments_count_insert AFTER INSERT ON comments WHEN NEW.held = 0 BEGIN
  UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
  UPDATE comments SET reply_count = reply_count + 1 WHERE id = NEW.parent_id;
END;
--> statement-breakpoint
CREATE TRIGGER comments_count_delete AFTER DELETE ON comments WHEN OLD.held = 0 BEGIN
  UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id;
  UPDATE comments SET reply_count = reply_count - 1 WHERE id = OLD.parent_id;
END;
--> statement-breakpoint
-- Held (a spam hold found after the insert, or an edit) or released.
CREATE TRIGGER comments_count_held AFTER UPDATE OF held ON comments WHEN OLD.held != NEW.held BEGIN
  UPDATE posts SET comment_count = comment_count + (CASE WHEN NEW.held THEN -1 ELSE 1 END) WHERE id = NEW.post_id;
  UPDATE comments SET reply_count = reply_count + (CASE WHEN NEW.held THEN -1 ELSE 1 END) WHERE id = NEW.parent_id;
END;
--> statement-breakpoint
-- Counters that counted comments still held are recounted (only posts and comments with a held one).
UPDATE posts SET comment_count = (SELECT COUNT(*) FROM comments k WHERE k.post_id = posts.id AND k.held = 0)
WHERE id IN (SELECT post_id FROM comments WHERE held = 1);
--> statement-breakpoint
UPDATE comments SET reply_count = (SELECT COUNT(*) FROM comments r WHERE r.parent_id = comments.id AND r.held = 0)
WHERE id IN (SELECT parent_id FROM comments WHERE held = 1 AND parent_id IS NOT NULL);
