-- The audit log is append-only: no statement may change or delete an entry.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
--> statement-breakpoint
-- Each entry's hash covers the previous entry's hash, computed by the writer before its batch. An entry
-- whose prev_hash is not the current last hash (another writer committed in between) aborts its whole
-- batch, change included; the writer reads the new head and retries (src/modules/audit/audit.ts). So
-- the chain stays a single line under concurrent writers, and no change is committed unrecorded.
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
  WHEN NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
  SELECT RAISE(ABORT, 'audit chain conflict');
END;
--> statement-breakpoint
-- Site totals for the admin stats, kept in the same transaction as the rows they count.
INSERT INTO site_counters (key, value) VALUES
  ('users', (SELECT COUNT(*) FROM users)),
  ('posts', (SELECT COUNT(*) FROM posts)),
  ('communities', (SELECT COUNT(*) FROM communities)),
  ('keyword_rules_version', 0);
--> statement-breakpoint
CREATE TRIGGER site_counters_users_insert AFTER INSERT ON users BEGIN
  UPDATE site_counters SET value = value + 1 WHERE key = 'users';
END;
--> statement-breakpoint
CREATE TRIGGER site_counters_users_delete AFTER DELETE ON users BEGIN
  UPDATE site_counters SET value = value - 1 WHERE key = 'users';
END;
--> statement-breakpoint
CREATE TRIGGER site_counters_posts_insert AFTER INSERT ON posts BEGIN
  UPDATE site_counters SET value = value + 1 WHERE key = 'posts';
END;
--> statement-breakpoint
CREATE TRIGGER site_counters_posts_delete AFTER DELETE ON posts BEGIN
  UPDATE site_counters SET value = value - 1 WHERE key = 'posts';
END;
--> statement-breakpoint
CREATE TRIGGER site_counters_communities_insert AFTER INSERT ON communities BEGIN
  UPDATE site_counters SET value = value + 1 WHERE key = 'communities';
END;
--> statement-breakpoint
CREATE TRIGGER site_counters_communities_delete AFTER DELETE ON communities BEGIN
  UPDATE site_counters SET value = value - 1 WHERE key = 'communities';
END;
