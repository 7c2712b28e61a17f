-- A member may ask to hear of every post in a community (off by default: a busy
-- community must not flood anyone who did not choose it).
ALTER TABLE memberships ADD COLUMN notify_posts boolean NOT NULL DEFAULT false;
