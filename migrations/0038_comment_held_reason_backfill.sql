-- Why each comment already held is held (comments.held_reason): a content rule's or spam hold opened an
-- automatic report with action `hold` in the comment's own batch; a silence hold opened none. Reports
-- are never deleted, so a held comment without one was held for its author's silence alone.
UPDATE comments SET held_reason = CASE
  WHEN EXISTS (SELECT 1 FROM reports r WHERE r.subject_type = 'comment' AND r.subject_id = comments.id
    AND r.reporter_id IS NULL AND json_extract(r.auto, '$.action') = 'hold') THEN 'review'
  ELSE 'silence' END
WHERE held = 1;
