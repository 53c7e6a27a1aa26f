// Shell fragments shared by the guest steps: which OS the guest runs, and the apt repository setup a Debian admin
// would do for a vendor repository (keyring in /etc/apt/keyrings or /usr/share/keyrings, one .list file).

/** Sets OS_ID and CODENAME from /etc/os-release; without it the step stops rather than guess the distribution. */
export const OS_RELEASE = `
[[ -r "$R/etc/os-release" ]] || { echo "cannot read /etc/os-release: unknown distribution" >&2; exit 3; }
OS_ID=$(. "$R/etc/os-release"; printf '%s' "\${ID:-}")
CODENAME=$(. "$R/etc/os-release"; printf '%s' "\${VERSION_CODENAME:-}")
`;

/** Prints `installed` for each installed package among its arguments; a function `pkg_installed NAME`. */
export const PKG_INSTALLED = `
pkg_installed() { [[ $(dpkg-query -W -f='\${db:Status-Status}' "$1" 2>/dev/null) == installed ]]; }
`;

/** Apt-based installs run on Debian and Ubuntu only; Home Assistant OS gets the manual step that applies there. */
export const REQUIRE_APT = (what: string, onHaos?: string) => `${
  onHaos
    ? `
if [[ $OS_ID == haos ]]; then
  echo "Home Assistant OS has no package manager: ${what} must be done by hand. MANUAL STEP: ${onHaos}" >&2
  exit 3
fi`
    : ''
}
if [[ $OS_ID != debian && $OS_ID != ubuntu ]]; then
  echo "${what} supports Debian and Ubuntu guests; this one is '$OS_ID'" >&2
  exit 3
fi
`;
