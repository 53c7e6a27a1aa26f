#!/usr/bin/env bash
# Installs or upgrades Jarvis on edge-gateway (Debian 13, as root) from a release tree: this checkout, or the release
# `jarvis bootstrap` unpacks. Idempotent, and the upgrade path: the code is replaced, and the environment file, the
# specs and the data are never overwritten. Every path is under $JARVIS_ROOT (empty on a real host; a throwaway root
# in the tests and the simulator), like the provisioning steps' scripts.
#   sudo deploy/edge-gateway/install.sh
#   ENV_FROM=FILE    the environment file to install when there is none yet (default: .env.example, gateway paths)
#   SPECS_FROM=DIR   the specs (and site.yaml) to install when they are missing (default: this release's specs/)
set -euo pipefail

R="${JARVIS_ROOT:-}"
PREFIX=/opt/jarvis
ENV_DIR=/etc/jarvis
DATA_DIR=/var/lib/jarvis
UNIT_DIR=/etc/systemd/system
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ENV_FROM=${ENV_FROM:-}
SPECS_FROM=${SPECS_FROM:-$SRC/specs}

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
[ -f "$SRC/package-lock.json" ] && [ -f "$SRC/bin/jarvis.js" ] || die "$SRC is not a Jarvis release (no package-lock.json or bin/jarvis.js)"

# Node.js 20 from the distribution: Debian 13 (trixie) ships 20.19. Debian 12's nodejs is 18, too old: use Debian 13,
# or install Node 20 from NodeSource (README: Install) and run this again.
if ! node --version >/dev/null 2>&1 || ! npm --version >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "Node.js 20 and npm are required and there is no apt-get to install them: install Node 20, then run this again"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is required, found $(node --version) (Debian 12 ships Node 18): use Debian 13, or install Node 20 from NodeSource (README: Install), then run this again"

# The service's own account; its ids, not its name, own the files (the name means nothing outside this system).
if ! getent passwd jarvis >/dev/null; then
  useradd --system --home-dir "$DATA_DIR" --shell /usr/sbin/nologin --user-group jarvis
  say "created system user jarvis"
fi
uid=$(getent passwd jarvis | cut -d: -f3)
gid=$(getent group jarvis | cut -d: -f3)

install -d -m 0755 "$R$PREFIX"
install -d -m 0700 -o "$uid" -g "$gid" "$R$DATA_DIR"
install -d -m 0750 -o 0 -g "$gid" "$R$ENV_DIR" "$R$ENV_DIR/specs"

# Jarvis's SSH key (to the node and the VMs it builds): made once, readable by the service only.
if [ ! -f "$R$ENV_DIR/id_ed25519" ]; then
  ssh-keygen -q -t ed25519 -N '' -C "jarvis@edge-gateway" -f "$R$ENV_DIR/id_ed25519"
  say "made Jarvis's SSH key $ENV_DIR/id_ed25519 (public half: $ENV_DIR/id_ed25519.pub)"
fi
chown "$uid:$gid" "$R$ENV_DIR/id_ed25519" "$R$ENV_DIR/id_ed25519.pub"
chmod 0600 "$R$ENV_DIR/id_ed25519"
chmod 0644 "$R$ENV_DIR/id_ed25519.pub"

# Code: the release is prepared beside the running one (production dependencies only; the bundled dist/ comes with
# the release), then swapped in. --ignore-scripts skips `prepare` (the build needs the dev dependencies); the native
# SQLite binding is then built or fetched on its own.
if [ "$SRC" != "$R$PREFIX" ]; then
  rm -rf "$R$PREFIX.new"
  install -d -m 0755 "$R$PREFIX.new"
  (cd "$SRC" && tar --exclude=./node_modules --exclude=./data --exclude=./.env --exclude=./.git -cf - .) | tar -xf - -C "$R$PREFIX.new"
  (cd "$R$PREFIX.new" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3)
  chown -R 0:0 "$R$PREFIX.new"
  rm -rf "$R$PREFIX.old"
  mv "$R$PREFIX" "$R$PREFIX.old"
  mv "$R$PREFIX.new" "$R$PREFIX"
  rm -rf "$R$PREFIX.old"
fi
[ -f "$R$PREFIX/dist/manifest.json" ] || say "no dist/ in this release: Jarvis runs from its sources through tsx (slower start); 'jarvis bootstrap' ships a built one"

# Environment file: written once, never overwritten; readable by root and the service only.
if [ ! -f "$R$ENV_DIR/jarvis.env" ]; then
  if [ -n "$ENV_FROM" ]; then
    install -m 0640 -o 0 -g "$gid" "$ENV_FROM" "$R$ENV_DIR/jarvis.env"
    say "wrote $ENV_DIR/jarvis.env"
  else
    sed -e "s|^JARVIS_DATA_DIR=.*|JARVIS_DATA_DIR=$DATA_DIR|" \
      -e "s|^JARVIS_SPECS_DIR=.*|JARVIS_SPECS_DIR=$ENV_DIR/specs|" \
      -e "s|^SSH_KEY_PATH=.*|SSH_KEY_PATH=$ENV_DIR/id_ed25519|" \
      "$SRC/.env.example" >"$R$ENV_DIR/jarvis.env.new"
    install -m 0640 -o 0 -g "$gid" "$R$ENV_DIR/jarvis.env.new" "$R$ENV_DIR/jarvis.env"
    rm -f "$R$ENV_DIR/jarvis.env.new"
    say "wrote $ENV_DIR/jarvis.env from .env.example: fill it in (sudo jarvis doctor says what is missing)"
  fi
else
  say "kept $ENV_DIR/jarvis.env"
fi
chown "0:$gid" "$R$ENV_DIR/jarvis.env"
chmod 0640 "$R$ENV_DIR/jarvis.env"

# Specs and the site file: each written once, never overwritten (yours to edit; JARVIS_SPECS_DIR points here).
for spec in "$SPECS_FROM"/*.yaml; do
  [ -f "$spec" ] || continue
  name=$(basename "$spec")
  if [ -e "$R$ENV_DIR/specs/$name" ]; then continue; fi
  install -m 0640 -o 0 -g "$gid" "$spec" "$R$ENV_DIR/specs/$name"
  say "wrote $ENV_DIR/specs/$name"
done

# The unit, and `jarvis` on the PATH: the service's user and environment file, so doctor and register-discord read
# exactly what the service reads.
install -d -m 0755 "$R$UNIT_DIR" "$R/usr/local/bin"
install -m 0644 "$R$PREFIX/deploy/edge-gateway/jarvis.service" "$R$UNIT_DIR/jarvis.service"
install -m 0755 "$R$PREFIX/deploy/edge-gateway/jarvis" "$R/usr/local/bin/jarvis"

if [ -d "$R/run/systemd/system" ]; then
  systemctl daemon-reload
  systemctl enable jarvis.service
  if systemctl restart jarvis.service; then say "jarvis.service (re)started"; else say "jarvis did not start: see 'journalctl -u jarvis' and run 'sudo jarvis doctor'"; fi
else
  say "systemd is not running here; unit installed at $UNIT_DIR/jarvis.service"
fi
say "Jarvis installed in $PREFIX (data: $DATA_DIR, configuration: $ENV_DIR/jarvis.env, specs: $ENV_DIR/specs)"
