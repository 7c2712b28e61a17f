-- Conversations under posts: comments (one level of replies), their edit history for
-- moderators, and reactions with per-kind counts kept in the same transactions, so a
-- timeline reads every count of a page in one batched query.
ALTER TABLE posts ADD COLUMN comment_count integer NOT NULL DEFAULT 0 CHECK (comment_count >= 0);

CREATE TABLE comments (
    id         uuid PRIMARY KEY,
    post_id    uuid        NOT NULL REFERENCES posts (id),
    -- A reply names the top-level comment it answers; replies have no replies.
    parent_id  uuid        REFERENCES comments (id),
    author_id  uuid        NOT NULL,
    text       text        NOT NULL,
    mentions   jsonb       NOT NULL DEFAULT '[]',
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    edited_at  timestamptz,
    deleted_at timestamptz,
    CHECK (deleted_at IS NOT NULL OR length(text) BETWEEN 1 AND 5000)
);
CREATE INDEX comments_thread ON comments (post_id, created_at, id) WHERE deleted_at IS NULL;

-- Earlier texts of edited comments, for moderators only (never served to others).
CREATE TABLE comment_edits (
    comment_id uuid        NOT NULL REFERENCES comments (id),
    version    bigint      NOT NULL,
    text       text        NOT NULL,
    written_at timestamptz NOT NULL,
    PRIMARY KEY (comment_id, version)
);

CREATE TABLE reactions (
    post_id    uuid        NOT NULL REFERENCES posts (id),
    person_id  uuid        NOT NULL,
    kind       text        NOT NULL
               CHECK (kind IN ('like', 'celebrate', 'insightful', 'support', 'funny')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (post_id, person_id, kind)
);
CREATE INDEX reactions_list ON reactions (post_id, kind, created_at DESC, person_id);

CREATE TABLE reaction_counts (
    post_id uuid    NOT NULL,
    kind    text    NOT NULL,
    count   integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (post_id, kind)
);

-- Followed #topics: the home timeline merges their posts in on read.
CREATE TABLE topic_follows (
    person_id  uuid        NOT NULL,
    tag        text        NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (person_id, tag)
);
CREATE INDEX topic_follows_by_tag ON topic_follows (tag);

-- A post under each of its tags, newest first: a topic's feed (and a home timeline
-- merging followed topics) is one index range per tag, where the GIN index on
-- posts.hashtags could only find the posts and sort them all.
CREATE TABLE post_tags (
    tag        text        NOT NULL,
    post_id    uuid        NOT NULL REFERENCES posts (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tag, created_at, post_id)
);
INSERT INTO post_tags (tag, post_id, created_at)
    SELECT DISTINCT t, id, created_at FROM posts, unnest(hashtags) t WHERE deleted_at IS NULL;
