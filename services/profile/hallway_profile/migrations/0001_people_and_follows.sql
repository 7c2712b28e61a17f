CREATE TABLE people (
    id           uuid PRIMARY KEY,
    handle       text        NOT NULL UNIQUE CHECK (handle ~ '^[a-z0-9][a-z0-9._-]{1,31}$'),
    display_name text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    title        text        NOT NULL DEFAULT '',
    department   text        NOT NULL DEFAULT '',
    manager_id   uuid        REFERENCES people (id),
    email        text,
    active       boolean     NOT NULL DEFAULT true,
    version      bigint      NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (manager_id IS DISTINCT FROM id)
);
CREATE INDEX people_manager ON people (manager_id);

CREATE TABLE follows (
    follower_id uuid        NOT NULL REFERENCES people (id),
    followee_id uuid        NOT NULL REFERENCES people (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
-- Keyset pagination of both directions, newest first.
CREATE INDEX follows_by_followee ON follows (followee_id, created_at DESC, follower_id);
CREATE INDEX follows_by_follower ON follows (follower_id, created_at DESC, followee_id);
