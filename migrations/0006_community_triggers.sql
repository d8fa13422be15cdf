-- member_count never counts pending applicants; like the other counters it changes in the same
-- statement (so the same transaction) as the membership rows it counts, whatever the code path.
CREATE TRIGGER community_members_count_insert AFTER INSERT ON community_members WHEN NEW.role != 'pending' BEGIN
  UPDATE communities SET member_count = member_count + 1 WHERE id = NEW.community_id;
END;
--> statement-breakpoint
CREATE TRIGGER community_members_count_delete AFTER DELETE ON community_members WHEN OLD.role != 'pending' BEGIN
  UPDATE communities SET member_count = member_count - 1 WHERE id = OLD.community_id;
END;
--> statement-breakpoint
CREATE TRIGGER community_members_count_update AFTER UPDATE OF role ON community_members
  WHEN (OLD.role = 'pending') != (NEW.role = 'pending') BEGIN
  UPDATE communities SET member_count = member_count + (CASE WHEN NEW.role = 'pending' THEN -1 ELSE 1 END) WHERE id = NEW.community_id;
END;
--> statement-breakpoint
-- The owner can only go by handing ownership over (the API refuses otherwise), or when their account is
-- deleted: then the longest-standing moderator, else the longest-standing member, becomes owner, and a
-- community left with no members at all is deleted.
CREATE TRIGGER community_members_owner_gone AFTER DELETE ON community_members WHEN OLD.role = 'owner' BEGIN
  UPDATE community_members SET role = 'owner'
  WHERE community_id = OLD.community_id AND user_id = (
    SELECT user_id FROM community_members
    WHERE community_id = OLD.community_id AND role IN ('moderator', 'member')
    ORDER BY role = 'moderator' DESC, created_at, user_id LIMIT 1);
  DELETE FROM communities WHERE id = OLD.community_id
    AND NOT EXISTS (SELECT 1 FROM community_members WHERE community_id = OLD.community_id AND role != 'pending');
END;
--> statement-breakpoint
-- Deleting a community takes its posts (with their likes, comments and attachments, by cascade) and
-- its chat's index rows with it; the worker also dissolves the chat's room.
CREATE TRIGGER communities_delete_content AFTER DELETE ON communities BEGIN
  DELETE FROM posts WHERE community_id = OLD.id;
  DELETE FROM conversations WHERE id = OLD.conversation_id;
END;
--> statement-breakpoint
-- Full-text search over name and description for GET /communities?q=. The id is stored with the text
-- (not rowid-linked), so a VACUUM renumbering rowids cannot detach the index from its rows.
CREATE VIRTUAL TABLE communities_fts USING fts5(community_id UNINDEXED, name, description, tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER communities_fts_insert AFTER INSERT ON communities BEGIN
  INSERT INTO communities_fts (community_id, name, description) VALUES (NEW.id, NEW.name, NEW.description);
END;
--> statement-breakpoint
CREATE TRIGGER communities_fts_delete AFTER DELETE ON communities BEGIN
  DELETE FROM communities_fts WHERE community_id = OLD.id;
END;
--> statement-breakpoint
CREATE TRIGGER communities_fts_update AFTER UPDATE OF name, description ON communities BEGIN
  UPDATE communities_fts SET name = NEW.name, description = NEW.description WHERE community_id = NEW.id;
END;
