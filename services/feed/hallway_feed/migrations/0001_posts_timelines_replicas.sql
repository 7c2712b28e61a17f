-- Read model of profile's people (hallway.profile.person.v1): mention resolution and
-- author checks. Versioned upserts; no foreign keys, because the replica fills in
-- whatever order events arrive and can be rebuilt by replaying the topic.
CREATE TABLE people (
    id           uuid PRIMARY KEY,
    handle       text        NOT NULL,
    display_name text        NOT NULL,
    active       boolean     NOT NULL DEFAULT true,
    version      bigint      NOT NULL,
    updated_at   timestamptz NOT NULL
);
-- Not unique: a replica that lags a handle change may briefly hold it twice.
CREATE INDEX people_handle ON people (handle);

-- Read model of profile's follow graph (hallway.profile.follow.v1), for fan-out.
CREATE TABLE follows (
    follower_id uuid        NOT NULL,
    followee_id uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
-- Fan-out reads every follower of an author.
CREATE INDEX follows_by_followee ON follows (followee_id, follower_id);

CREATE TABLE posts (
    id              uuid PRIMARY KEY,
    author_id       uuid        NOT NULL,
    text            text        NOT NULL,
    -- [{"person_id": ..., "handle": ...}] as resolved when the post was written.
    mentions        jsonb       NOT NULL DEFAULT '[]',
    hashtags        text[]      NOT NULL DEFAULT '{}',
    idempotency_key text        CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    version         bigint      NOT NULL DEFAULT 1,
    -- Set by the fan-out consumer when the author had too many followers to fan
    -- out to: such posts are merged into home timelines on read.
    merge_on_read   boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    deleted_at      timestamptz,
    -- A deleted post keeps only its tombstone (id, author, times): the content goes.
    CHECK (deleted_at IS NOT NULL OR length(text) BETWEEN 1 AND 5000)
);
CREATE UNIQUE INDEX posts_idempotency ON posts (author_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX posts_by_author ON posts (author_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX posts_merge_on_read ON posts (author_id, created_at DESC, id DESC)
    WHERE merge_on_read AND deleted_at IS NULL;
CREATE INDEX posts_hashtags ON posts USING gin (hashtags) WHERE deleted_at IS NULL;

-- Authors whose posts were ever merged on read instead of fanned out.
CREATE TABLE large_authors (
    author_id uuid PRIMARY KEY,
    since     timestamptz NOT NULL DEFAULT now()
);

-- Materialised home timelines, written by the fan-out consumer. Derived data: it can
-- be rebuilt by replaying hallway.feed.post.v1 into an empty table.
CREATE TABLE home_timeline (
    owner_id   uuid        NOT NULL,
    post_id    uuid        NOT NULL,
    author_id  uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (owner_id, post_id)
);
CREATE INDEX home_timeline_page ON home_timeline (owner_id, created_at DESC, post_id DESC);
CREATE INDEX home_timeline_post ON home_timeline (post_id);
CREATE INDEX home_timeline_author ON home_timeline (owner_id, author_id);
