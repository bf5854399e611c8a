-- 0020: the custody areas after keys (RULES §3.5 archives, §3.6 mail and parcels, §3.7 lost
-- property and valuables) on the common ledger of 0010: no new tables.  Courier-locker
-- integrations push mail items idempotently by their own reference, unique per organisation
-- and area; the daily lists read items by their due time (mail reminder, unclaimed period,
-- loan due).
ALTER TABLE custody_items ADD COLUMN external_ref text
    CHECK (length(external_ref) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX custody_items_external_ref ON custody_items (org_id, area, external_ref)
    WHERE external_ref IS NOT NULL;
CREATE INDEX custody_items_due ON custody_items (project_id, area, due_back)
    WHERE due_back IS NOT NULL;
CREATE INDEX custody_items_holder ON custody_items (holder_id) WHERE holder_id IS NOT NULL;

-- Per project (NULL: the server's DESK_MAIL_REMIND_DAYS / DESK_LOST_UNCLAIMED_DAYS): days
-- before an uncollected mail item is due for a reminder call, and before an unclaimed found
-- item is listed for hand-over to the police.
ALTER TABLE projects ADD COLUMN mail_remind_days integer
    CHECK (mail_remind_days BETWEEN 1 AND 60);
ALTER TABLE projects ADD COLUMN lost_unclaimed_days integer
    CHECK (lost_unclaimed_days BETWEEN 1 AND 3650);

INSERT INTO schema_version (version) VALUES (20);
