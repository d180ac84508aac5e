#!/usr/bin/env sh
# Create the secret files the compose stack mounts (deploy/secrets/), with random values where
# missing. Existing files are kept. Replace the NMS token and provider tokens for production.
#
# Permissions: docker compose bind-mounts secret files with their host owner and mode, and the
# containers run as other non-root users (exporter 10001, grafana 472, alertmanager 65534,
# postgres 70), so the files must be readable by all (0644). The directory is 0700: on the host
# only its owner can reach them; containers see the files, not the directory.
set -eu
cd "$(dirname "$0")/secrets"
chmod 700 .
umask 022
# 32 alphanumerics (~190 bits): safe inside the libpq DSN without quoting.
rand() { LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32; }
# No trailing newline: not every reader (Alertmanager's *_file) strips one.
make() { [ -s "$1" ] || printf '%s' "$2" > "$1"; chmod 644 "$1"; }
make postgres_password "$(rand)"
make grafana_store_password "$(rand)"
make grafana_admin_password "$(rand)"
make nms_token "replace-with-the-nms-token"
make smtp_password "replace-with-the-smtp-password"
make twilio_auth_token "replace-with-the-twilio-auth-token"
make telegram_bot_token "replace-with-the-telegram-bot-token"
make store_dsn "host=timescaledb port=5432 dbname=padtec user=padtec password=$(cat postgres_password)"
echo "secrets ready in $(pwd)"
