#!/usr/bin/env bash
# Installs or upgrades Jarvis on edge-gateway (Debian/Ubuntu, run as root from a checkout of the repository).
# Idempotent: running it again upgrades the code and keeps /var/lib/jarvis (plans, journal, approvals) and the env file.
#   sudo deploy/edge-gateway/install.sh            # install or upgrade
#   PREFIX=/opt/jarvis ENV_DIR=/etc/jarvis …        # defaults shown
set -euo pipefail

PREFIX=${PREFIX:-/opt/jarvis}
ENV_DIR=${ENV_DIR:-/etc/jarvis}
DATA_DIR=${DATA_DIR:-/var/lib/jarvis}
UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}
SRC=$(cd "$(dirname "$0")/../.." && pwd)

die() { echo "install.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
command -v node >/dev/null || die "Node.js 20 is required (apt-get install nodejs, or NodeSource 20.x)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is required, found $(node --version)"
command -v npm >/dev/null || die "npm is required"

if ! id jarvis >/dev/null 2>&1; then
  useradd --system --home-dir "$DATA_DIR" --shell /usr/sbin/nologin --user-group jarvis
  echo "created system user jarvis"
fi

install -d -m 0755 "$PREFIX"
install -d -m 0700 -o jarvis -g jarvis "$DATA_DIR"
install -d -m 0750 -o root -g jarvis "$ENV_DIR"

# Code: copy the tracked files (no data/, no .env), then install production dependencies.
if [ "$SRC" != "$PREFIX" ]; then
  (cd "$SRC" && git ls-files -z) | (cd "$SRC" && xargs -0 tar -cf - ) | tar -xf - -C "$PREFIX"
fi
(cd "$PREFIX" && npm ci --omit=dev --no-audit --no-fund)
chown -R root:root "$PREFIX"

# Environment file: created once from the example, never overwritten; readable by root and jarvis only.
if [ ! -f "$ENV_DIR/jarvis.env" ]; then
  install -m 0640 -o root -g jarvis "$SRC/.env.example" "$ENV_DIR/jarvis.env"
  echo "wrote $ENV_DIR/jarvis.env from .env.example: fill it in, then run: sudo systemctl restart jarvis"
fi
chmod 0640 "$ENV_DIR/jarvis.env"
chown root:jarvis "$ENV_DIR/jarvis.env"

install -m 0644 "$SRC/deploy/edge-gateway/jarvis.service" "$UNIT_DIR/jarvis.service"
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable jarvis.service
  systemctl restart jarvis.service || echo "jarvis did not start yet: check 'journalctl -u jarvis' and 'sudo -u jarvis JARVIS_ENV_FILE=$ENV_DIR/jarvis.env node $PREFIX/bin/jarvis.js doctor'"
else
  echo "systemd is not running here; unit installed at $UNIT_DIR/jarvis.service"
fi
echo "Jarvis installed in $PREFIX (data: $DATA_DIR, config: $ENV_DIR/jarvis.env)"
