-- 0011: organisations a hosting operator can deactivate.
--
-- A deactivated organisation keeps all its data, but none of its users can log in, refresh
-- a session or use an access token (403 organisation_inactive) until it is activated again
-- (GET/POST /v1/platform/organisations, deskd --deactivate-org / --activate-org).
ALTER TABLE organisations
    ADD COLUMN active boolean NOT NULL DEFAULT true,
    ADD COLUMN deactivated_at timestamptz;

INSERT INTO schema_version (version) VALUES (11);
