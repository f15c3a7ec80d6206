-- Two roles. The owner role owns the tables and the functions that touch them; nobody logs in as it.
-- The application's login role owns nothing, cannot create roles or databases, cannot bypass row-level
-- security, and reaches memories only through the owner's SECURITY DEFINER functions (005).
-- The password file holds either the password or, on Cloud SQL, its SCRAM-SHA-256 verifier computed
-- client-side (components/scram.py): Postgres stores a verifier as given, so no statement carries the
-- password in clear where DDL and role statements are logged. psql reads the file, never the command line.
CREATE ROLE :"owner_role" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
\set app_password `cat :'app_password_file'`
CREATE ROLE :"app_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';
\unset app_password
GRANT CONNECT ON DATABASE :"database" TO :"app_role";
-- The role applying the schema creates objects as the owner (Cloud SQL's postgres is no true superuser).
GRANT :"owner_role" TO CURRENT_USER;

\connect :"database"
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT USAGE, CREATE ON SCHEMA public TO :"owner_role";
-- Functions are created EXECUTE-able by PUBLIC unless told otherwise; here each grant is explicit.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
