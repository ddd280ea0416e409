#!/bin/sh
# Run once by the postgres image on an empty data volume: one role and one database per administration, so
# that each gateway holds only its own data. Passwords come from the environment (docker-compose.yml).
set -eu
for admin in pe cl; do
  password=$(printenv "$(echo "$admin" | tr 'a-z' 'A-Z')_DB_PASSWORD")
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="mra_$admin" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
SQL
done
