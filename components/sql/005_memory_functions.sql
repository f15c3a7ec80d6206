-- The application's only way to memories (seed 000 Phase 4: who accessed which memory and when).
-- Each function runs as the owner role (SECURITY DEFINER, fixed search_path), takes the tenant, checks it,
-- binds its transaction to it (row-level security), touches that tenant's rows only and appends one audit
-- row: actor = the session's login role, the tenant, the memory ids, the time from the server (trigger).
-- psql expands no variables inside function bodies: they name tenant_id, audit_log and app.tenant_id, and
-- components/postgres_runtime.sql_settings() refuses a baseline that names them otherwise.
\connect :"database"
SET ROLE :"owner_role";

CREATE FUNCTION memory_tenant(tenant text) RETURNS text
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF tenant IS NULL OR tenant !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' THEN
        RAISE EXCEPTION 'tenant % is not a tenant id (ISO 27001:2022 A.5.15)', quote_nullable(tenant)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- A transaction that already acts for one tenant cannot act for another.
    IF coalesce(current_setting('app.tenant_id', true), '') NOT IN ('', tenant) THEN
        RAISE EXCEPTION 'this transaction acts for tenant %, not % (ISO 27001:2022 A.5.15)',
            current_setting('app.tenant_id', true), tenant USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('app.tenant_id', tenant, true);
    RETURN tenant;
END
$$;

CREATE FUNCTION memory_store(tenant text, content text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    stored bigint;
BEGIN
    PERFORM memory_tenant(tenant);
    INSERT INTO memories (tenant_id, content) VALUES (memory_store.tenant, memory_store.content) RETURNING id INTO stored;
    INSERT INTO audit_log (tenant_id, actor, action, memory_ids)
        VALUES (memory_store.tenant, session_user, 'memory.store', ARRAY[stored]);
    RETURN stored;
END
$$;

-- ids NULL: the tenant's newest memories; otherwise those of the ids that belong to the tenant. The audit row
-- names the ids returned and counts the requested ids that were not (another tenant's, or none).
CREATE FUNCTION memory_recall(tenant text, ids bigint[] DEFAULT NULL, max_rows integer DEFAULT 50)
    RETURNS TABLE (memory_id bigint, content text, created_at timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    found bigint[];
BEGIN
    PERFORM memory_tenant(tenant);
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_rows % is outside 1..1000', max_rows USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT coalesce(array_agg(chosen.id ORDER BY chosen.id DESC), '{}') INTO found
        FROM (SELECT m.id FROM memories m
              WHERE m.tenant_id = memory_recall.tenant AND (memory_recall.ids IS NULL OR m.id = ANY (memory_recall.ids))
              ORDER BY m.id DESC LIMIT max_rows) chosen;
    INSERT INTO audit_log (tenant_id, actor, action, memory_ids, detail)
        VALUES (memory_recall.tenant, session_user, 'memory.read', found,
                jsonb_build_object('not_returned', CASE WHEN memory_recall.ids IS NULL THEN 0
                                                        ELSE cardinality(memory_recall.ids) - cardinality(found) END));
    RETURN QUERY SELECT m.id, m.content, m.created_at FROM memories m WHERE m.id = ANY (found) ORDER BY m.id DESC;
END
$$;

CREATE FUNCTION memory_forget(tenant text, id bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    forgotten bigint[];
BEGIN
    PERFORM memory_tenant(tenant);
    WITH gone AS (DELETE FROM memories m WHERE m.tenant_id = memory_forget.tenant AND m.id = memory_forget.id
                  RETURNING m.id)
        SELECT coalesce(array_agg(gone.id), '{}') INTO forgotten FROM gone;
    INSERT INTO audit_log (tenant_id, actor, action, memory_ids)
        VALUES (memory_forget.tenant, session_user, 'memory.forget', forgotten);
    RETURN cardinality(forgotten) = 1;
END
$$;

REVOKE ALL ON FUNCTION memory_tenant(text), memory_store(text, text), memory_recall(text, bigint[], integer),
    memory_forget(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION memory_store(text, text), memory_recall(text, bigint[], integer),
    memory_forget(text, bigint) TO :"app_role";
RESET ROLE;
