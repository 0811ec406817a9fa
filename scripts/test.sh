#!/usr/bin/env bash
# Runs the whole suite twice: on SQLite, then on a throwaway PostgreSQL started here on 127.0.0.1.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_ALLOW_ASYNC_UNSAFE=true
PYTEST_ARGS=("$@")

pg_bin() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}
PGBIN=$(pg_bin)
PGDIR=$(mktemp -d /tmp/tastemaker-pg.XXXXXX)
PGPORT=$($BIN/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()")
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; AS_PG=(runuser -u postgres --); fi

stop_pg() {
  if [ -f "$PGDIR/data/postmaster.pid" ]; then
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || \
      kill "$(head -1 "$PGDIR/data/postmaster.pid")" 2>/dev/null || true
  fi
  rm -rf "$PGDIR"
}
trap stop_pg EXIT

echo "== starting a throwaway PostgreSQL on 127.0.0.1:$PGPORT"
"${AS_PG[@]}" "$PGBIN/initdb" -A trust -U postgres -E UTF8 -D "$PGDIR/data" >/dev/null || exit 1
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/log" \
  -o "-h 127.0.0.1 -p $PGPORT -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null || {
  cat "$PGDIR/log"; exit 1; }

status=0
echo "== lint (ruff)"
$BIN/ruff check --no-cache src tests || status=1
echo "== layers (import-linter: .importlinter)"
PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" $BIN/lint-imports --no-cache || status=1
echo "== types (mypy)"; $BIN/mypy || status=1
echo "== test suite on SQLite"
# each run is bounded, so a hung test cannot eat CI's whole budget
timeout --kill-after=30 1800 $BIN/pytest -n 2 --dist loadgroup --durations=15 "${PYTEST_ARGS[@]}" || status=1
echo "== test suite on PostgreSQL (the browser tests ran above: they check pages, not the database)"
TASTEMAKER_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/tastemaker" \
  timeout --kill-after=30 1800 $BIN/pytest -n 2 --dist loadgroup --durations=15 --ignore=tests/e2e \
  "${PYTEST_ARGS[@]}" || status=1
if [ $status -eq 0 ]; then echo "== all suites passed (SQLite and PostgreSQL)"; else echo "== FAILED"; fi
exit $status
