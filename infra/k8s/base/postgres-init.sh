#!/bin/sh
# One role and one database per service, read from the services' own DATABASE_URLs so that each
# credential is written once (in the ticketforge-secrets Secret). The official image runs this
# on the first start of an empty volume; it is idempotent, so it can be run again by hand after
# a password or a service is added (infra/README.md shows how).
set -eu

for var in AUTH_DATABASE_URL TICKETS_DATABASE_URL ORDERS_DATABASE_URL PAYMENTS_DATABASE_URL EXPIRATION_DATABASE_URL; do
  eval "url=\${$var:-}"
  if [ -z "$url" ]; then
    echo "postgres-init: $var is not set" >&2
    exit 1
  fi
  rest=${url#*://}
  credentials=${rest%%@*}
  user=${credentials%%:*}
  password=${credentials#*:}
  database=${rest#*/}
  database=${database%%\?*}
  # A URL-encoded character would be stored encoded; letters, digits, "_" and "-" need no encoding.
  for part in "$user" "$password" "$database"; do
    case "$part" in
      "" | *[!A-Za-z0-9_-]*)
        echo "postgres-init: $var must be postgresql://USER:PASSWORD@HOST:PORT/DB with letters, digits, _ or - only" >&2
        exit 1
        ;;
    esac
  done
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v user="$user" -v password="$password" -v database="$database" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'user', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
-- A service reaches its own database only.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
SQL
  echo "postgres-init: database $database owned by $user"
done
