-- Tenant-scoped memories (ISO 27001:2022 A.5.15, A.8.3): row-level security, forced even for the
-- table owner, lets a session see and write only rows of the tenant named in its session setting.
-- An unset setting matches no row. The application sets it per request; RLS stops a query that
-- forgets its tenant filter, it does not authenticate tenants.
\connect :"database"
CREATE TABLE memories (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    :"tenant_column" text NOT NULL CHECK (:"tenant_column" <> ''),
    content     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX memories_tenant ON memories (:"tenant_column");
ALTER TABLE memories ENABLE ROW LEVEL SECURITY;
ALTER TABLE memories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memories
    USING (:"tenant_column" = current_setting(:'tenant_setting', true))
    WITH CHECK (:"tenant_column" = current_setting(:'tenant_setting', true));
REVOKE ALL ON memories FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON memories TO :"app_role";
