-- The audit log keeps its own record (ISO 27001:2022 A.8.15, A.5.28, A.5.33; seed 000 Phase 4).
-- - Append-only: a statement trigger refuses UPDATE, DELETE and TRUNCATE for every role, the owner included.
-- - Written only by the owner's functions (005): the application role has no INSERT, so it cannot choose an
--   actor, a time or an id (OVERRIDING SYSTEM VALUE included).
-- - Tamper-evident: a row trigger numbers each row (seq) and sets its time from the server and its hash,
--   sha256 over the previous row's hash and this row's fields. audit_log_verify() recomputes the chain, so a
--   row deleted or changed by a superuser who disabled the trigger is detected, even where it cannot be
--   prevented. Removing rows at the end of the chain is detected by comparing the head (seq, hash) with a
--   head recorded earlier outside the database (the audit report keeps it).
-- - Row-level security: the application role reads only the rows of the tenant in its session setting.
\connect :"database"
CREATE EXTENSION IF NOT EXISTS pgaudit;
SET ROLE :"owner_role";

CREATE TABLE :"audit_log_table" (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq         bigint NOT NULL UNIQUE,
    occurred_at timestamptz NOT NULL,
    :"tenant_column" text NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    memory_ids  bigint[] NOT NULL DEFAULT '{}',
    detail      jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea NOT NULL,
    row_hash    bytea NOT NULL
);
REVOKE ALL ON :"audit_log_table" FROM PUBLIC;
GRANT SELECT ON :"audit_log_table" TO :"app_role";
ALTER TABLE :"audit_log_table" ENABLE ROW LEVEL SECURITY;
ALTER TABLE :"audit_log_table" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_reads_own ON :"audit_log_table" FOR SELECT TO :"app_role"
    USING (:"tenant_column" = current_setting(:'tenant_setting', true));
-- The owner's functions append (their INSERT runs as the owner, whom FORCE ROW LEVEL SECURITY also binds).
CREATE POLICY owner_appends ON :"audit_log_table" FOR INSERT TO :"owner_role" WITH CHECK (true);
CREATE POLICY owner_reads_chain ON :"audit_log_table" FOR SELECT TO :"owner_role" USING (true);

-- The canonical text a row's hash covers: jsonb's text form is deterministic, the time is UTC to the microsecond.
CREATE FUNCTION audit_log_row_hash(prev_hash bytea, seq bigint, occurred_at timestamptz, tenant text, actor text,
                                   action text, memory_ids bigint[], detail jsonb) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
    SELECT sha256(prev_hash || convert_to(jsonb_build_array(
        seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), tenant, actor, action,
        to_jsonb(memory_ids), detail)::text, 'UTF8'))
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    previous record;
BEGIN
    -- One writer at a time extends the chain; the lock is held until the transaction ends.
    PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_NAME));
    EXECUTE format('SELECT seq, row_hash FROM %I ORDER BY seq DESC LIMIT 1', TG_TABLE_NAME) INTO previous;
    NEW.seq := coalesce(previous.seq, 0) + 1;
    NEW.occurred_at := clock_timestamp();
    NEW.prev_hash := coalesce(previous.row_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    NEW.row_hash := audit_log_row_hash(NEW.prev_hash, NEW.seq, NEW.occurred_at, NEW.tenant_id, NEW.actor, NEW.action,
                                       NEW.memory_ids, NEW.detail);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON :"audit_log_table" FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION refuse_audit_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the audit log is append-only (ISO 27001:2022 A.8.15)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON :"audit_log_table"
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_log_change();

-- intact: every row's prev_hash is the previous row's hash, every hash recomputes and seq has no gap.
-- first_broken_seq: the first row where that fails; head_seq, head_hash: to compare with a head kept elsewhere.
CREATE FUNCTION audit_log_verify(OUT intact boolean, OUT rows bigint, OUT first_broken_seq bigint,
                                 OUT head_seq bigint, OUT head_hash text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    expected_prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    expected_seq bigint := 1;
    entry record;
BEGIN
    intact := true;
    rows := 0;
    FOR entry IN SELECT * FROM audit_log ORDER BY seq LOOP
        rows := rows + 1;
        IF intact AND (entry.seq <> expected_seq OR entry.prev_hash <> expected_prev OR entry.row_hash <>
                audit_log_row_hash(entry.prev_hash, entry.seq, entry.occurred_at, entry.tenant_id, entry.actor,
                                   entry.action, entry.memory_ids, entry.detail)) THEN
            intact := false;
            first_broken_seq := entry.seq;
        END IF;
        expected_prev := entry.row_hash;
        expected_seq := entry.seq + 1;
        head_seq := entry.seq;
        head_hash := encode(entry.row_hash, 'hex');
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION audit_log_verify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_log_verify() TO :"app_role";
RESET ROLE;
