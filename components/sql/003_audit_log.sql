-- Append-only audit log (ISO 27001:2022 A.8.15, A.5.28): the application role may INSERT and SELECT
-- only, and a statement trigger refuses UPDATE, DELETE and TRUNCATE for every role, the owner included.
\connect :"database"
CREATE TABLE :"audit_log_table" (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    :"tenant_column" text NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
REVOKE ALL ON :"audit_log_table" FROM PUBLIC;
GRANT SELECT, INSERT ON :"audit_log_table" TO :"app_role";

CREATE FUNCTION refuse_audit_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the audit log is append-only (ISO 27001:2022 A.8.15)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON :"audit_log_table"
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_log_change();
