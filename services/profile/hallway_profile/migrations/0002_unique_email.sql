-- One person per e-mail address, compared case-insensitively: mail for an address
-- must never reach someone who merely typed it into their profile.
CREATE UNIQUE INDEX people_email_unique ON people (lower(email)) WHERE email IS NOT NULL;
