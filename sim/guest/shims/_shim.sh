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

# Tools that answer from the simulated node (its firewall, the guests' network) ask the simulator: NUL-separated
# sandbox root, tool name, argument count and arguments over /dev/tcp to $JARVIS_SIM_ORACLE, then run its answer
# (sim/guest/oracle.ts). Outside the simulator (no oracle) they are missing, as on a machine without them.
shim_ask() {
  if [[ -z ${JARVIS_SIM_ORACLE:-} ]]; then
    echo "bash: $SHIM_NAME: command not found" >&2
    exit 127
  fi
  local answer
  exec 3<>"/dev/tcp/127.0.0.1/$JARVIS_SIM_ORACLE" || { echo "$SHIM_NAME: the simulator does not answer" >&2; exit 70; }
  printf '%s\0' "$JARVIS_ROOT" "$SHIM_NAME" "$#" "$@" >&3
  answer=$(cat <&3)
  exec 3<&-
  eval "$answer"
}

# The simulated network's verdict on fetching from HOST PORT (curl, apt-get): prints `ok …`, `resolve …` or
# `connect …` and returns 0, 6, 7 or 28 like curl. Without the simulator every fetch may go ahead.
shim_net_check() {
  [[ -n ${JARVIS_SIM_ORACLE:-} ]] || return 0
  (SHIM_NAME=jarvis-net-check; shim_ask "$@")
}
