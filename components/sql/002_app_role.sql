-- The application's login role: owns nothing, cannot create roles or databases, cannot bypass
-- row-level security. Its password is read from the secret file by psql, never from the command line.
\set app_password `cat :'app_password_file'`
CREATE ROLE :"app_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';
\unset app_password
GRANT CONNECT ON DATABASE :"database" TO :"app_role";

\connect :"database"
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_role";
