-- Per-person preferences by notification kind x channel. Only choices a person made
-- are stored; everything else is the default in code (hallway_notification.prefs), so
-- the kind list lives in one Python constant and a new kind needs no migration (no
-- CHECK on kind or channel here: the service validates them).
CREATE TABLE preferences (
    person_id  uuid        NOT NULL,
    kind       text        NOT NULL,
    channel    text        NOT NULL,
    enabled    boolean     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, kind, channel)
);

-- A notification kept only to carry its e-mail (in-app switched off for its kind):
-- never listed, streamed, counted or put in a digest; born read, so it blocks nothing.
ALTER TABLE notifications ADD COLUMN in_app boolean NOT NULL DEFAULT true;
-- When a digest e-mail listed it: each unread notification is in at most one digest.
ALTER TABLE notifications ADD COLUMN digested_at timestamptz;

-- The e-mail digest, one row per person who has had a notification (or chose a
-- frequency). frequency NULL = the default (weekly). A digest lists the person's
-- unread in-app notifications that no digest listed yet; the next one is due at
-- due_at (NULL: to be scheduled by the digest mailer as period_start + the
-- frequency's period). retry_at is the mailer's lease and backoff. last_sent_at and
-- last_period_end record the last digest sent: settling a digest moves the period on
-- in the same transaction, so a restart never sends one period twice.
CREATE TABLE digests (
    person_id       uuid        PRIMARY KEY,
    frequency       text        CHECK (frequency IN ('off', 'daily', 'weekly')),
    period_start    timestamptz NOT NULL DEFAULT now(),
    due_at          timestamptz,
    retry_at        timestamptz NOT NULL DEFAULT '-infinity',
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    last_sent_at    timestamptz,
    last_period_end timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- The mailer's two scans: rows to schedule, and due rows.
CREATE INDEX digests_unscheduled ON digests (person_id)
    WHERE due_at IS NULL AND frequency IS DISTINCT FROM 'off';
CREATE INDEX digests_due ON digests (due_at) WHERE frequency IS DISTINCT FROM 'off';
-- What the next digest of a person lists.
CREATE INDEX notifications_undigested ON notifications (person_id, created_at)
    WHERE read_at IS NULL AND in_app AND digested_at IS NULL;
