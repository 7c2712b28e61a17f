-- A person's inbox. Rows are derived from events (post mentions, follows), so the
-- whole table can be rebuilt by replaying the topics.
CREATE TABLE notifications (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id       uuid        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('mention', 'new_follower')),
    actor_id        uuid        NOT NULL,
    post_id         uuid,
    snippet         text        NOT NULL DEFAULT '' CHECK (length(snippet) <= 200),
    source_event_id uuid        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz,
    CHECK ((kind = 'mention') = (post_id IS NOT NULL)),
    -- One event never notifies a person twice, even if processed_events was purged.
    CONSTRAINT notifications_once_per_event UNIQUE (person_id, kind, source_event_id)
);
-- A post mentions a person once, whichever event (or replay) carried it.
CREATE UNIQUE INDEX notifications_one_mention_per_post
    ON notifications (person_id, post_id) WHERE kind = 'mention';
-- Follow/unfollow churn does not stack "X followed you" while one is still unread.
CREATE UNIQUE INDEX notifications_one_unread_follow
    ON notifications (person_id, actor_id) WHERE kind = 'new_follower' AND read_at IS NULL;
-- Inbox keyset pagination, newest first: (created_at, id) per person.
CREATE INDEX notifications_inbox ON notifications (person_id, created_at, id);
CREATE INDEX notifications_unread ON notifications (person_id, created_at, id) WHERE read_at IS NULL;
-- post.deleted removes every notification pointing at the post.
CREATE INDEX notifications_by_post ON notifications (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX notifications_age ON notifications (created_at);

-- Tombstones of deleted posts (ids only, no content), so a late or replayed
-- post.created cannot bring a deleted post back into anyone's inbox.
CREATE TABLE deleted_posts (
    post_id    uuid        PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);

-- Where to email a person. The profile service owns addresses and events carry
-- none (privacy), so this table is fed separately (opt-in sync, later work).
CREATE TABLE email_addresses (
    person_id  uuid        PRIMARY KEY,
    email      text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email !~ '[\r\n]'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Emails to send, written in the consumer's transaction and drained by the mailer,
-- so a slow or broken SMTP server never holds up the consumer. Deleting the
-- notification (e.g. its post was deleted) cancels a pending email.
CREATE TABLE email_outbox (
    id              bigserial   PRIMARY KEY,
    notification_id uuid        NOT NULL UNIQUE REFERENCES notifications (id) ON DELETE CASCADE,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    failed_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE failed_at IS NULL;
