-- 0027: duty leftovers (issue 11).  The morning handover takes the hand-over action of each
-- night-desk request it lists (RULES §3.8.13) when it is accepted; what happened to each —
-- handed over, or skipped and why — is kept with the handover.
ALTER TABLE handovers ADD COLUMN night_desk_actions jsonb NOT NULL DEFAULT '[]';

-- Patrol photos (RULES §3.10.3: a finding has its photo).  The file lives in object storage;
-- the row records it as a request attachment does (name, type, size, storage key, URL,
-- digest), under the round it was taken on.  A finding's photo_id names one of its round's
-- photos.  Findings recorded before this migration named a bare uuid: the reference is not
-- validated for them (NOT VALID), only for every finding written from now on.
CREATE TABLE patrol_photos (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    project_id    uuid        NOT NULL,
    round_id      uuid        NOT NULL,
    filename      text        NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type  text        NOT NULL CHECK (content_type LIKE 'image/%' AND length(content_type) <= 127),
    size_bytes    bigint      NOT NULL CHECK (size_bytes >= 0),
    storage_key   text        NOT NULL CHECK (length(storage_key) BETWEEN 1 AND 1024),
    url           text        CHECK (length(url) <= 2048),
    sha256        text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_by    uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, round_id) REFERENCES patrol_rounds (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX patrol_photos_round ON patrol_photos (round_id, created_at, id);
ALTER TABLE patrol_findings ADD CONSTRAINT patrol_findings_photo_fkey
    FOREIGN KEY (org_id, photo_id) REFERENCES patrol_photos (org_id, id) NOT VALID;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON patrol_photos FOR EACH ROW EXECUTE FUNCTION audit_row('patrol_photo', 'id');

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT ON patrol_photos TO deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted (%)', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (27);
