-- A null payload is a tombstone: it deletes its key from a compacted state topic.
ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL;
