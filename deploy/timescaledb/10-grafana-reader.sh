#!/usr/bin/env bash
# Runs once when the database volume is created: a read-only role for Grafana.
set -euo pipefail
reader_password="$(cat /run/secrets/grafana_store_password)"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="$reader_password" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'reader_password';
GRANT CONNECT ON DATABASE padtec TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE padtec IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
SQL
