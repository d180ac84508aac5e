#!/usr/bin/env bash
# Runs once, when the database volume is created (docker-entrypoint-initdb.d): a read-only role
# for Grafana, with SELECT on every table the store creates later. Tested against a real
# PostgreSQL in tests/deploy/test_timescaledb_init.py.
set -euo pipefail
password_file="${GRAFANA_STORE_PASSWORD_FILE:-/run/secrets/grafana_store_password}"
reader_password="$(cat "$password_file")"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="$reader_password" -v db="$POSTGRES_DB" -v owner="$POSTGRES_USER" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'reader_password';
GRANT CONNECT ON DATABASE :"db" TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
SQL
