-- schema.sql — the whole current schema of deskd.  Applied as-is to an empty database;
-- existing databases are brought forward by db/migrations/NNNN_*.sql instead.  The last
-- statement records the version, which must equal the highest migration number.
--
-- Every table carries org_id, and every reference between tenant tables is a composite
-- foreign key (org_id, id) so a row can never point into another organisation.

CREATE TABLE schema_version (
    version     integer     NOT NULL PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- RFC 3339 UTC text for JSON output, with microseconds so cursors are exact.  STABLE
-- like the to_char() it wraps, so PostgreSQL inlines it instead of planning a call.
CREATE FUNCTION rfc3339(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- Phone numbers for roles that must not see them in full: keep the first 3 and last 4.
CREATE FUNCTION mask_phone(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN p IS NULL THEN NULL
               WHEN length(p) <= 7 THEN repeat('*', length(p))
               ELSE left(p, 3) || repeat('*', length(p) - 7) || right(p, 4) END $$;

CREATE TABLE organisations (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid        GENERATED ALWAYS AS (id) STORED,
    code        text        NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{1,62}$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone       text,
    address     text,
    version     integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE projects (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid        NOT NULL REFERENCES organisations(id),
    code            text        NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone       text        NOT NULL,
    business_hours  jsonb       NOT NULL,
    address         text,
    phone           text,
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (org_id, code),
    UNIQUE (org_id, id)
);
CREATE INDEX projects_list ON projects (org_id, created_at, id);

CREATE TABLE buildings (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid        NOT NULL,
    project_id  uuid        NOT NULL,
    code        text        NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    floors      integer     CHECK (floors BETWEEN 1 AND 300),
    version     integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (project_id, code),
    UNIQUE (org_id, id),
    UNIQUE (project_id, id)
);
CREATE INDEX buildings_list ON buildings (org_id, created_at, id);
CREATE INDEX buildings_project ON buildings (project_id, created_at, id);

CREATE TABLE units (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL,
    project_id   uuid        NOT NULL,
    building_id  uuid        NOT NULL,
    code         text        NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    floor        integer     CHECK (floor BETWEEN -10 AND 300),
    area_m2      numeric(10,2) CHECK (area_m2 > 0),
    status       text        NOT NULL DEFAULT 'occupied' CHECK (status IN ('occupied','vacant','rented','decorating')),
    version      integer     NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, building_id) REFERENCES buildings (org_id, id),
    FOREIGN KEY (project_id, building_id) REFERENCES buildings (project_id, id),
    UNIQUE (building_id, code),
    UNIQUE (org_id, id)
);
CREATE INDEX units_list ON units (org_id, created_at, id);
CREATE INDEX units_project ON units (project_id, created_at, id);
CREATE INDEX units_building ON units (building_id, created_at, id);

CREATE TABLE departments (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid        NOT NULL REFERENCES organisations(id),
    project_id  uuid,
    kind        text        NOT NULL CHECK (kind IN ('customer_service','engineering','security','cleaning','greenery','finance','supplier','other')),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone       text,
    version     integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX departments_list ON departments (org_id, created_at, id);
CREATE INDEX departments_project ON departments (project_id, created_at, id);

CREATE TABLE residents (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid        NOT NULL,
    project_id      uuid        NOT NULL,
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone           text,
    -- ID numbers are kept only as a keyed hash so they can be verified, never read back.
    id_number_hash  text,
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX residents_list ON residents (org_id, created_at, id);
CREATE INDEX residents_project ON residents (project_id, created_at, id);

CREATE TABLE resident_units (
    org_id       uuid    NOT NULL,
    resident_id  uuid    NOT NULL,
    unit_id      uuid    NOT NULL,
    relation     text    NOT NULL CHECK (relation IN ('owner','tenant','family')),
    is_adult     boolean NOT NULL DEFAULT true,
    PRIMARY KEY (resident_id, unit_id),
    FOREIGN KEY (org_id, resident_id) REFERENCES residents (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id)
);
CREATE INDEX resident_units_unit ON resident_units (unit_id);

CREATE TABLE users (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid        NOT NULL REFERENCES organisations(id),
    username       text        NOT NULL CHECK (username ~ '^[A-Za-z0-9._@-]{2,64}$'),
    display_name   text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role           text        NOT NULL CHECK (role IN ('resident','agent','technician','security','supervisor','manager','director','gm','clerk','integration','auditor','admin')),
    department_id  uuid,
    resident_id    uuid,
    phone          text,
    password_hash  text        NOT NULL,
    active         boolean     NOT NULL DEFAULT true,
    failed_logins  integer     NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    version        integer     NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    FOREIGN KEY (org_id, resident_id) REFERENCES residents (org_id, id),
    CHECK ((role = 'resident') = (resident_id IS NOT NULL)),
    UNIQUE (org_id, id)
);
-- Usernames are global so that login needs no organisation; case-insensitive.
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE INDEX users_list ON users (org_id, created_at, id);

CREATE TABLE user_projects (
    org_id      uuid NOT NULL,
    user_id     uuid NOT NULL,
    project_id  uuid NOT NULL,
    PRIMARY KEY (user_id, project_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);
CREATE INDEX user_projects_project ON user_projects (project_id);

CREATE TABLE refresh_tokens (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    family_id   uuid        NOT NULL,
    token_hash  text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

INSERT INTO schema_version (version) VALUES (1);
