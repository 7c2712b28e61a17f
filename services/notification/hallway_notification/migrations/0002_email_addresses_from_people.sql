-- Addresses come from profile's person events (consumer group hallway-notification):
-- versioned, so an older event never overwrites a newer address, and kept as a
-- row with a null address when the person has none or was removed, so that a
-- replayed older event cannot bring an address back.
ALTER TABLE email_addresses ADD COLUMN version bigint NOT NULL DEFAULT 0;
ALTER TABLE email_addresses ALTER COLUMN email DROP NOT NULL;
