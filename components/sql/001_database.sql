-- The application database. Only its owner (the superuser) and the application role may connect.
-- Variables (:database, :app_role, ...) come from 000_settings.psql, generated from the baseline.
CREATE DATABASE :"database" ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
