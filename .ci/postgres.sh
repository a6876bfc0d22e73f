#!/usr/bin/env bash
# A throwaway PostgreSQL server for the history store's tests: a fresh
# cluster in a temporary directory, run as the postgres user, listening on
# loopback only, with a role whose random password sits in a 0600 passfile.
#
#   eval "$(bash .ci/postgres.sh start)"   # prints HVAUDIT_POSTGRES_URL and HVAUDIT_POSTGRES_DIR
#   bash .ci/postgres.sh stop "$HVAUDIT_POSTGRES_DIR"
#
# Needs Debian's postgresql package (make deps installs it) and root (to
# become postgres); the port defaults to 55432 (HVAUDIT_POSTGRES_PORT).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ]; then
	echo "postgres.sh: PostgreSQL is not installed (Debian: postgresql)" >&2
	exit 1
fi
as_postgres() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
	port=${HVAUDIT_POSTGRES_PORT:-55432}
	dir=$(mktemp -d /tmp/hvaudit-pg.XXXXXX)
	chmod 755 "$dir"
	mkdir -p "$dir/data" "$dir/run"
	password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	printf '%s\n' "$password" >"$dir/pwfile"
	[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir/data" "$dir/run" "$dir/pwfile"
	as_postgres "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
		--pwfile="$dir/pwfile" -E UTF8 >"$dir/initdb.log" 2>&1
	as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/run/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/run -c fsync=off" start >&2
	as_postgres "$bindir/psql" -h "$dir/run" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q \
		-c "CREATE ROLE hvaudit LOGIN CREATEDB PASSWORD '$password'" \
		-c "CREATE DATABASE hvaudit OWNER hvaudit" >&2
	# The passfile is the test process's (root's in CI): mode 0600, as libpq wants.
	printf '127.0.0.1:%s:*:hvaudit:%s\n' "$port" "$password" >"$dir/pgpass"
	chmod 600 "$dir/pgpass"
	rm -f "$dir/pwfile"
	echo "export HVAUDIT_POSTGRES_DIR='$dir'"
	echo "export HVAUDIT_POSTGRES_URL='postgres://hvaudit@127.0.0.1:$port/hvaudit?sslmode=disable&passfile=$dir/pgpass'"
	;;
stop)
	dir=${2:?usage: postgres.sh stop DIR}
	as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: postgres.sh start | stop DIR" >&2
	exit 2
	;;
esac
