-- 0005: requests' value rules as domains and length-limited types.
--
-- PostgreSQL reads, plans and initialises every CHECK constraint of a table again for each
-- INSERT or UPDATE statement (the parsed form is not cached across statements); requests
-- had 22, which cost about a fifth of a create's time in PostgreSQL.  A domain's check is
-- cached per session and varchar(n) is enforced by the type, so the same rules now cost
-- next to nothing.  Only the rules that relate two columns stay table CHECKs.
-- The rules are unchanged: the same values are accepted and refused (23514 for a value
-- outside its list, 22001 for a text over its length; the API checks both first anyway).
-- The ALTER rewrites the table once.
CREATE DOMAIN request_type AS text
    CHECK (VALUE IN ('complaint','repair','inquiry','suggestion','praise','emergency'));
CREATE DOMAIN request_channel AS text
    CHECK (VALUE IN ('phone','visit','letter','fax','app','web','email','night_desk','patrol','integration','survey','other'));
CREATE DOMAIN complaint_severity AS text CHECK (VALUE IN ('major','important','general'));
CREATE DOMAIN complaint_category AS text
    CHECK (VALUE IN ('attitude','timeliness','quality','service_range','developer_legacy','fees','other'));
CREATE DOMAIN request_validity AS text CHECK (VALUE IN ('unknown','valid','invalid'));
CREATE DOMAIN request_state AS text
    CHECK (VALUE IN ('received','dispatched','accepted','on_site','pending','resolved','callback','closed','rejected','not_responsible'));
CREATE DOMAIN pending_reason AS text
    CHECK (VALUE IN ('customer','appointment','parts','developer','other'));
CREATE DOMAIN location_kind AS text CHECK (VALUE IN ('unit','common_area'));
CREATE DOMAIN department_kind AS text
    CHECK (VALUE IN ('customer_service','engineering','security','cleaning','greenery','finance','supplier','other'));

ALTER TABLE requests
    DROP CONSTRAINT requests_type_check,
    DROP CONSTRAINT requests_channel_check,
    DROP CONSTRAINT requests_severity_check,
    DROP CONSTRAINT requests_category_check,
    DROP CONSTRAINT requests_validity_check,
    DROP CONSTRAINT requests_state_check,
    DROP CONSTRAINT requests_pending_reason_check,
    DROP CONSTRAINT requests_location_kind_check,
    DROP CONSTRAINT requests_common_area_check,
    DROP CONSTRAINT requests_reporter_name_check,
    DROP CONSTRAINT requests_reporter_phone_check,
    DROP CONSTRAINT requests_title_check,
    DROP CONSTRAINT requests_description_check,
    DROP CONSTRAINT requests_reporting_dept_kind_check,
    DROP CONSTRAINT requests_external_source_check,
    DROP CONSTRAINT requests_external_id_check,
    DROP CONSTRAINT requests_explanation_check,
    DROP CONSTRAINT requests_resolution_check;

ALTER TABLE requests
    ALTER COLUMN type TYPE request_type,
    ALTER COLUMN channel TYPE request_channel,
    ALTER COLUMN severity TYPE complaint_severity,
    ALTER COLUMN category TYPE complaint_category,
    ALTER COLUMN validity TYPE request_validity,
    ALTER COLUMN state TYPE request_state,
    ALTER COLUMN pending_reason TYPE pending_reason,
    ALTER COLUMN location_kind TYPE location_kind,
    ALTER COLUMN common_area TYPE varchar(200),
    ALTER COLUMN reporter_name TYPE varchar(100),
    ALTER COLUMN reporter_phone TYPE varchar(40),
    ALTER COLUMN title TYPE varchar(200),
    ALTER COLUMN description TYPE varchar(10000),
    ALTER COLUMN reporting_dept_kind TYPE department_kind,
    ALTER COLUMN external_source TYPE varchar(64),
    ALTER COLUMN external_id TYPE varchar(128),
    ALTER COLUMN explanation TYPE varchar(4000),
    ALTER COLUMN resolution TYPE varchar(4000),
    ADD CONSTRAINT requests_description_check CHECK (description <> '');

INSERT INTO schema_version (version) VALUES (5);
