-- An upload that leaves its last post stops being public (GET /media/{key} serves it to its owner and
-- staff only, unless another use keeps it: src/modules/media/media.service.ts, MEDIA_WITHDRAWN_SQL).
-- Triggers, so that every way a post loses an image counts: its author, its wall owner, a community
-- moderator or staff deleting it, an edit dropping the image, and cascades (a deleted account's wall, a
-- deleted community). Attaching the image to a post again makes it public again.
CREATE TRIGGER media_detached AFTER DELETE ON post_media
  WHEN NOT EXISTS (SELECT 1 FROM post_media WHERE media_id = OLD.media_id) BEGIN
  UPDATE media SET detached_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE id = OLD.media_id;
END;
--> statement-breakpoint
CREATE TRIGGER media_attached AFTER INSERT ON post_media BEGIN
  UPDATE media SET detached_at = NULL WHERE id = NEW.media_id AND detached_at IS NOT NULL;
END;
