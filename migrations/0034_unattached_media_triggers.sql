-- An attachment upload stays in `unattached_media` until a post or a message first uses it; the cron
-- deletes the ones still there a day after their upload (src/modules/media/unattached.ts).
CREATE TRIGGER media_first_posted AFTER INSERT ON post_media BEGIN
  DELETE FROM unattached_media WHERE media_id = NEW.media_id;
END;
--> statement-breakpoint
CREATE TRIGGER media_first_sent AFTER INSERT ON message_media BEGIN
  DELETE FROM unattached_media WHERE media_id = NEW.media_id;
END;
--> statement-breakpoint
-- Uploads made before this migration that nothing ever used wait their day from now.
INSERT INTO unattached_media (media_id, created_at)
  SELECT m.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM media m
  WHERE m.kind = 'attachment' AND m.detached_at IS NULL AND m.sent_in_message = 0
    AND NOT EXISTS (SELECT 1 FROM post_media pm WHERE pm.media_id = m.id)
    AND NOT EXISTS (SELECT 1 FROM message_media mm WHERE mm.media_id = m.id);
