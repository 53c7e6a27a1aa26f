# Shared part of the recording stand-ins (sourced, not run). A shim never touches the real system: it refuses to run
# without JARVIS_ROOT (the sandbox root) and keeps its state under $JARVIS_ROOT/.shim/state. Every call is appended to
# $JARVIS_ROOT/.shim/calls.log as `<read|mutate>\t<tool>\t<argv, shell-quoted>` so tests can see what a step changed.
if [[ -z "${JARVIS_ROOT:-}" ]]; then
  echo "${SHIM_NAME:-shim}: JARVIS_ROOT is not set; this stand-in only runs inside a sandbox" >&2
  exit 99
fi
SHIM_DIR="$JARVIS_ROOT/.shim"
STATE="$SHIM_DIR/state"
mkdir -p "$STATE"

shim_log() {
  local kind=$1 line
  shift
  printf -v line '%q ' "$@"
  printf '%s\t%s\t%s\n' "$kind" "$SHIM_NAME" "${line% }" >>"$SHIM_DIR/calls.log"
}

# Installed packages are files under state/dpkg; tools shipped by a package refuse to run until it is installed.
shim_package_installed() { [[ -f "$STATE/dpkg/$1" ]]; }
shim_require_package() {
  if ! shim_package_installed "$1"; then
    echo "bash: $SHIM_NAME: command not found (package $1 is not installed)" >&2
    exit 127
  fi
}
