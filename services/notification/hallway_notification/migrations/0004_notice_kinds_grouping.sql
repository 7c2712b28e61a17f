-- The kinds feed's internal notice topic brings (issue 8): replies, reactions, mentions
-- in comments and restricted posts, community invitations, join requests, approvals
-- and community posts. What a notification is about grows from a post to a post, a
-- comment and a community; replies and reactions are grouped per post.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications DROP CONSTRAINT notifications_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'mention', 'new_follower', 'reply', 'reaction', 'community_invite', 'join_request',
    'request_approved', 'community_post'));

ALTER TABLE notifications
    ADD COLUMN comment_id     uuid,
    ADD COLUMN community_id   uuid,
    -- The community's name when the notice was made (invitations name the community).
    ADD COLUMN community_name text    NOT NULL DEFAULT '' CHECK (length(community_name) <= 200),
    -- For reactions: the newest one's kind (like, celebrate, ...).
    ADD COLUMN reaction       text    CHECK (reaction IS NULL OR length(reaction) <= 40),
    -- Distinct people behind a grouped notification ("Ana and 12 others reacted");
    -- actor_id is the newest of them. 1 for ungrouped kinds.
    ADD COLUMN actor_count    integer NOT NULL DEFAULT 1 CHECK (actor_count >= 1);

-- What each kind is about: content kinds name a post, community kinds a community,
-- a new follower neither.
ALTER TABLE notifications ADD CONSTRAINT notifications_about_check CHECK (
    CASE
        WHEN kind IN ('mention', 'reply', 'reaction', 'community_post') THEN post_id IS NOT NULL
        WHEN kind IN ('community_invite', 'join_request', 'request_approved')
            THEN post_id IS NULL AND community_id IS NOT NULL
        ELSE post_id IS NULL AND comment_id IS NULL AND community_id IS NULL
    END);
ALTER TABLE notifications ADD CONSTRAINT notifications_reaction_kind_check
    CHECK (reaction IS NULL OR kind = 'reaction');

-- A mention is once per (person, post, comment): a post mention from post.created and
-- one from a notice about the same post (no comment) are the same notification.
DROP INDEX notifications_one_mention_per_post;
CREATE UNIQUE INDEX notifications_one_mention ON notifications (person_id, post_id, comment_id)
    NULLS NOT DISTINCT WHERE kind = 'mention';
-- Replies and reactions: one open (unread, in-app) group per person, kind and post;
-- once read, the next one starts a new group.
CREATE UNIQUE INDEX notifications_one_open_group ON notifications (person_id, kind, post_id)
    WHERE kind IN ('reply', 'reaction') AND read_at IS NULL AND in_app;
-- A post in a community is announced to a person once.
CREATE UNIQUE INDEX notifications_one_community_post ON notifications (person_id, post_id)
    WHERE kind = 'community_post';
-- Invitations and approvals do not stack while one is unread; a join request not per
-- requester either.
CREATE UNIQUE INDEX notifications_one_unread_invite ON notifications (person_id, kind, community_id)
    WHERE kind IN ('community_invite', 'request_approved') AND read_at IS NULL;
CREATE UNIQUE INDEX notifications_one_unread_request
    ON notifications (person_id, community_id, actor_id)
    WHERE kind = 'join_request' AND read_at IS NULL;
-- Retractions of a comment, and revoked access to a community.
CREATE INDEX notifications_by_comment ON notifications (comment_id) WHERE comment_id IS NOT NULL;
CREATE INDEX notifications_by_community ON notifications (community_id, person_id)
    WHERE community_id IS NOT NULL;

-- The notices behind a grouped notification (reply, reaction): who, which comment,
-- when. They make a replayed notice count once (its notice_id is here already), the
-- actor count distinct people, and a retracted comment leave the rest of its group.
CREATE TABLE notification_sources (
    notification_id uuid        NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    notice_id       uuid        NOT NULL,
    actor_id        uuid        NOT NULL,
    comment_id      uuid,
    reaction        text,
    snippet         text        NOT NULL DEFAULT '' CHECK (length(snippet) <= 200),
    occurred_at     timestamptz NOT NULL,
    PRIMARY KEY (notification_id, notice_id)
);
CREATE INDEX notification_sources_by_notice ON notification_sources (notice_id);
CREATE INDEX notification_sources_by_comment ON notification_sources (comment_id)
    WHERE comment_id IS NOT NULL;

-- Tombstones of retracted comments (ids only), as deleted_posts for posts: a late or
-- replayed notice cannot bring a deleted comment back.
CREATE TABLE deleted_comments (
    comment_id uuid        PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);

-- The name e-mails call an actor by ("Ana and 12 others reacted"), from the same person
-- events as the address; cleared when the person is removed.
ALTER TABLE email_addresses ADD COLUMN display_name text CHECK (length(display_name) <= 200);
