-- Communities and memberships, owned by feed: the service that decides who may read
-- a post decides it from these rows, in the same transaction as every change.
CREATE TABLE communities (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text        NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    -- Only ever narrowed (public -> private -> secret): widening would show members'
    -- past content to people it was not written for.
    visibility  text        NOT NULL CHECK (visibility IN ('public', 'private', 'secret')),
    official    boolean     NOT NULL DEFAULT false,
    posting     text        NOT NULL DEFAULT 'members' CHECK (posting IN ('members', 'admins')),
    created_by  uuid        NOT NULL,
    -- Active members, kept in the membership transactions (no count(*) per read).
    member_count integer    NOT NULL DEFAULT 0 CHECK (member_count >= 0),
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
-- Names are unique regardless of case, so the directory never shows two "Design".
CREATE UNIQUE INDEX communities_name ON communities (lower(name));
CREATE INDEX communities_directory ON communities (lower(name), id) WHERE visibility <> 'secret';

-- One row per (community, person): an active member with a role, a pending request
-- to join, or a pending invitation. Leaving or removal deletes the row.
CREATE TABLE memberships (
    community_id uuid        NOT NULL REFERENCES communities (id),
    person_id    uuid        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('active', 'requested', 'invited')),
    role         text        NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    invited_by   uuid,
    version      bigint      NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (community_id, person_id)
);
-- "My communities": the home timeline merges the posts of each.
CREATE INDEX memberships_by_person ON memberships (person_id, community_id) WHERE state = 'active';
CREATE INDEX memberships_list ON memberships (community_id, state, created_at DESC, person_id);

-- Versions of ended memberships, so a later membership of the same pair gets a
-- higher event version than the one before (consumers keep the newest).
CREATE TABLE membership_versions (
    community_id uuid   NOT NULL,
    person_id    uuid   NOT NULL,
    version      bigint NOT NULL,
    PRIMARY KEY (community_id, person_id)
);

ALTER TABLE posts ADD COLUMN community_id uuid REFERENCES communities (id);
CREATE INDEX posts_by_community ON posts (community_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND community_id IS NOT NULL;
