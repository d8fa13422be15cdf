-- Messages are a use of an upload as posts are (message_media, written by the ConversationRoom before a
-- message with attachments exists, deleted when it stops carrying them or its conversation goes):
-- `media.detached_at` is set when an upload leaves its last post *or message*, and cleared when either
-- takes it again (GET /media/{key} then serves it to its owner and staff only, unless its avatar or the
-- legacy `sent_in_message` flag keeps it public: src/modules/media/media.service.ts, MEDIA_WITHDRAWN_SQL).
DROP TRIGGER media_detached;
--> statement-breakpoint
CREATE TRIGGER media_detached AFTER DELETE ON post_media
  WHEN NOT EXISTS (SELECT 1 FROM post_media WHERE media_id = OLD.media_id)
   AND NOT EXISTS (SELECT 1 FROM message_media WHERE media_id = OLD.media_id) BEGIN
  UPDATE media SET detached_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE id = OLD.media_id;
END;
--> statement-breakpoint
CREATE TRIGGER media_unsent AFTER DELETE ON message_media
  WHEN NOT EXISTS (SELECT 1 FROM message_media WHERE media_id = OLD.media_id)
   AND NOT EXISTS (SELECT 1 FROM post_media WHERE media_id = OLD.media_id) BEGIN
  UPDATE media SET detached_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE id = OLD.media_id;
END;
--> statement-breakpoint
CREATE TRIGGER media_sent AFTER INSERT ON message_media BEGIN
  UPDATE media SET detached_at = NULL WHERE id = NEW.media_id AND detached_at IS NOT NULL;
END;
