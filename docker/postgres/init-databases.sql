-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d).
-- One database per PostgreSQL-backed service (docs/conventions.md); no service reads
-- another's database. Owner is the POSTGRES_USER (hallway).
CREATE DATABASE profile OWNER hallway;
CREATE DATABASE feed OWNER hallway;
CREATE DATABASE notification OWNER hallway;
