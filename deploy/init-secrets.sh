#!/usr/bin/env sh
# Create the secret files the compose stack mounts (deploy/secrets/), with random values where
# missing. Existing files are kept. Replace the NMS token and provider tokens for production.
set -eu
cd "$(dirname "$0")/secrets"
umask 077
rand() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
make() { [ -s "$1" ] || printf '%s\n' "$2" > "$1"; }
make postgres_password "$(rand)"
make grafana_store_password "$(rand)"
make grafana_admin_password "$(rand)"
make nms_token "replace-with-the-nms-token"
make smtp_password "replace-with-the-smtp-password"
make twilio_auth_token "replace-with-the-twilio-auth-token"
make telegram_bot_token "replace-with-the-telegram-bot-token"
make store_dsn "host=timescaledb port=5432 dbname=padtec user=padtec password=$(cat postgres_password)"
echo "secrets ready in $(pwd)"
