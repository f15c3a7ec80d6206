-- Tenant-scoped memories (ISO 27001:2022 A.5.15, A.8.3), owned by the owner role. The application role has
-- no privilege on the table: it stores, reads and forgets memories through the functions in 005, which take
-- the tenant, enforce it and append the audit row. Row-level security, forced for the owner too, is the
-- second fence: those functions see only rows of the tenant they set for their transaction.
\connect :"database"
SET ROLE :"owner_role";
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
RESET ROLE;
