#!/usr/bin/env bash
# Installs or upgrades cronwarden as a systemd service on one machine (a droplet).
#
#   sudo systemd/install.sh [--no-build] [--no-start]     from a checkout outside /opt/cronwarden
#
# Safe to run again: it replaces the code in /opt/cronwarden (the previous version is kept in
# /opt/cronwarden.old for a rollback) and restarts the service, but never touches the env file, the
# config or the data once they exist. Steps are in docs/operations.md.
#   --no-build   copy the code without `npm ci && npm run build && npm prune --omit=dev`
#   --no-start   install and enable the service without (re)starting it
# DESTDIR=/some/dir lays the files out under that root instead, without creating the user, changing
# owners or calling systemctl (for packaging and for test/deploy/install.test.ts).
set -euo pipefail

APP_DIR=/opt/cronwarden
ETC_DIR=/etc/cronwarden
STATE_DIR=/var/lib/cronwarden
UNIT_DIR=/etc/systemd/system
SERVICE=cronwarden
SERVICE_USER=cronwarden
MIN_NODE=20.11
# What the build and the running daemon need from the checkout (tests, benchmarks, .git stay out).
COPIED=(package.json package-lock.json tsconfig.json tsconfig.build.json src config examples scripts systemd docs README.md)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DESTDIR=${DESTDIR:-}
BUILD=yes
START=yes

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

parse_args() {
  for arg in "$@"; do
    case $arg in
      --no-build) BUILD=no ;;
      --no-start) START=no ;;
      -h | --help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
      *) die "unknown option $arg (try --help)" ;;
    esac
  done
}

check_prerequisites() {
  if [[ -z $DESTDIR && $EUID -ne 0 ]]; then die 'run as root (sudo), or set DESTDIR to stage the files'; fi
  [[ $SRC != "$APP_DIR" ]] || die "run this from a checkout outside $APP_DIR (e.g. /root/cronwarden); it replaces $APP_DIR"
  command -v node >/dev/null || die "node is not installed; install Node.js $MIN_NODE or later (docs/operations.md)"
  local version
  version=$(node -p 'process.versions.node')
  [[ $(printf '%s\n%s\n' "$MIN_NODE" "$version" | sort -V | head -n 1) == "$MIN_NODE" ]] \
    || die "node $version is too old; cronwarden needs $MIN_NODE or later"
  if [[ $BUILD == yes ]]; then command -v npm >/dev/null || die 'npm is not installed'; fi
  if [[ -z $DESTDIR ]]; then command -v systemctl >/dev/null || die 'systemctl not found: this installer is for systemd machines'; fi
}

ensure_user() {
  if [[ -n $DESTDIR ]] || id -u "$SERVICE_USER" >/dev/null 2>&1; then return; fi
  say "creating system user $SERVICE_USER"
  useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
}

# Builds the new version beside the running one, then swaps the directories, so a failed build
# leaves the installed version untouched.
install_code() {
  local target="$DESTDIR$APP_DIR" stage="$DESTDIR$APP_DIR.new"
  say "copying $SRC to $stage"
  rm -rf "$stage"
  mkdir -p "$stage"
  local items=() item
  for item in "${COPIED[@]}"; do
    if [[ -e $SRC/$item ]]; then items+=("$item"); fi
  done
  tar -C "$SRC" -cf - "${items[@]}" | tar -C "$stage" --no-same-owner -xf -
  if [[ $BUILD == yes ]]; then
    say 'building: npm ci && npm run build && npm prune --omit=dev'
    # The build needs the dev dependencies (TypeScript); the pruned tree runs without them.
    (cd "$stage" && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund)
  fi
  chmod -R u=rwX,go=rX "$stage"
  if [[ -d $target ]]; then
    rm -rf "$target.old"
    mv "$target" "$target.old"
    say "previous version kept in $APP_DIR.old"
  fi
  mv "$stage" "$target"
}

install_dirs() {
  install -d -m 0755 "$DESTDIR$ETC_DIR"
  install -d -m 0750 "$DESTDIR$STATE_DIR"
  if [[ -z $DESTDIR ]]; then chown "$SERVICE_USER:$SERVICE_USER" "$STATE_DIR"; fi
}

# The env file holds the JWT secret: created once, readable by root only (systemd reads it as root).
install_env_file() {
  local file="$DESTDIR$ETC_DIR/cronwarden.env"
  if [[ -e $file ]]; then say "keeping $ETC_DIR/cronwarden.env"; return; fi
  local secret
  secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077 && sed "s/^JWT_SECRET=\$/JWT_SECRET=$secret/" "$SRC/systemd/cronwarden.env.example" >"$file.tmp")
  mv "$file.tmp" "$file"
  say "created $ETC_DIR/cronwarden.env with a generated JWT_SECRET; set DATABASE_URL there for PostgreSQL"
}

install_config() {
  local file="$DESTDIR$ETC_DIR/cronwarden.yaml"
  if [[ -e $file ]]; then say "keeping $ETC_DIR/cronwarden.yaml"; return; fi
  install -m 0644 "$SRC/config/cronwarden.yaml" "$file"
  say "created $ETC_DIR/cronwarden.yaml from the shipped config; point pipelines.main.command at your program"
}

install_unit() {
  install -d -m 0755 "$DESTDIR$UNIT_DIR"
  install -m 0644 "$SRC/systemd/cronwarden.service" "$DESTDIR$UNIT_DIR/$SERVICE.service"
}

start_service() {
  if [[ -n $DESTDIR ]]; then return; fi
  systemctl daemon-reload
  systemctl enable "$SERVICE" >/dev/null
  if [[ $START == no ]]; then say "enabled; start it with: systemctl start $SERVICE"; return; fi
  say "restarting $SERVICE (running runs get daemon.shutdownGrace to finish)"
  systemctl restart "$SERVICE"
  wait_until_ready
}

wait_until_ready() {
  local port
  port=$(sed -n 's/^PORT=\([0-9]\{1,5\}\)[[:space:]]*$/\1/p' "$ETC_DIR/cronwarden.env" | tail -n 1)
  port=${port:-8000}
  if ! command -v curl >/dev/null; then say "check it with: systemctl status $SERVICE"; return; fi
  for _ in $(seq 1 60); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/health"; then say "ready: http://127.0.0.1:$port/health answers 200"; return; fi
    sleep 1
  done
  die "not ready after 60 s; see: journalctl -u $SERVICE -n 50 --no-pager"
}

main() {
  parse_args "$@"
  check_prerequisites
  ensure_user
  install_code
  install_dirs
  install_env_file
  install_config
  install_unit
  start_service
}

main "$@"
