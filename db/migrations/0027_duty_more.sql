-- 0027: duty leftovers (issue 11).  The morning handover takes the hand-over action of each
-- night-desk request it lists (RULES §3.8.13) when it is accepted; what happened to each —
-- handed over, or skipped and why — is kept with the handover.
ALTER TABLE handovers ADD COLUMN night_desk_actions jsonb NOT NULL DEFAULT '[]';

INSERT INTO schema_version (version) VALUES (27);
