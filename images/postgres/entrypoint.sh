#!/bin/sh
# First start: initdb into the (empty) data volume with scram-sha-256 and the superuser password read
# from a file, then the schema baked in $RAE_SQL_DIR. Every start: exec postgres with the server flags
# given as the container command (components/postgres_runtime.server_flags()).
# A failed first start empties the (previously empty) data volume again, so the next start begins
# from scratch; a volume holding foreign files is refused, never touched.
set -eu

for variable in POSTGRES_PASSWORD_FILE RAE_APP_PASSWORD_FILE; do
    eval "secret=\${$variable:-}"
    if [ -z "$secret" ] || [ ! -r "$secret" ] || [ ! -s "$secret" ]; then
        echo "entrypoint: $variable must name a non-empty secret file readable by uid $(id -u)" \
             "(got '${secret}'; ISO 27001:2022 A.5.17 Authentication information)" >&2
        exit 1
    fi
done
mkdir -p "$PGHOST"

initialise() {
    echo "entrypoint: first start, initialising $PGDATA"
    initdb --pgdata="$PGDATA" --username=postgres --pwfile="$POSTGRES_PASSWORD_FILE" \
        --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --data-checksums >/dev/null
    # Socket only, default logging (no statement logging while the role password is set); pgaudit preloaded
    # because CREATE EXTENSION pgaudit refuses otherwise (its pgaudit.log stays at its default, none).
    # Its socket is not the healthcheck's: the container turns healthy only once the real server accepts clients.
    init_socket="$PGHOST/initialising"
    mkdir -p "$init_socket"
    pg_ctl --pgdata="$PGDATA" --wait --silent \
        --options="-c listen_addresses= -c unix_socket_directories=$init_socket -c hba_file=$RAE_HBA_FILE -c shared_preload_libraries=$RAE_PRELOAD_LIBRARIES" start
    set --  # a function's own arguments: the server flags of the script stay untouched
    for file in "$RAE_SQL_DIR"/*; do set -- "$@" --file="$file"; done
    psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --set=app_password_file="$RAE_APP_PASSWORD_FILE" \
        --host="$init_socket" --username=postgres --dbname=postgres "$@"
    pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop
    echo "entrypoint: schema applied"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    # Never initialise over (or, on failure, delete) files this script did not create.
    if [ -n "$(ls -A "$PGDATA")" ]; then
        echo "entrypoint: $PGDATA holds files but no database; refusing to initialise over them" \
             "(mount an empty directory; ISO 27001:2022 A.8.13 Information backup)" >&2
        exit 1
    fi
    trap 'pg_ctl --pgdata="$PGDATA" --mode=immediate stop >/dev/null 2>&1 || true; find "$PGDATA" -mindepth 1 -delete; echo "entrypoint: initialisation failed; data volume emptied" >&2' EXIT
    initialise
    trap - EXIT
fi
exec postgres "$@"
