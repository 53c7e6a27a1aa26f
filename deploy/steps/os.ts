// Shell fragments shared by the guest steps: which OS the guest runs, and the apt repository setup a Debian admin
// would do for a vendor repository (keyring in /etc/apt/keyrings or /usr/share/keyrings, one .list file).

/** Sets OS_ID and CODENAME from /etc/os-release. */
export const OS_RELEASE = `
OS_ID=debian CODENAME=bookworm
if [[ -r "$R/etc/os-release" ]]; then
  OS_ID=$(. "$R/etc/os-release"; printf '%s' "\${ID:-debian}")
  CODENAME=$(. "$R/etc/os-release"; printf '%s' "\${VERSION_CODENAME:-bookworm}")
fi
`;

/** Prints `installed` for each installed package among its arguments; a function `pkg_installed NAME`. */
export const PKG_INSTALLED = `
pkg_installed() { [[ $(dpkg-query -W -f='\${db:Status-Status}' "$1" 2>/dev/null) == installed ]]; }
`;

/** Fails with a clear manual step on Home Assistant OS, which has no apt and manages software through add-ons. */
export const REFUSE_HAOS = (what: string) => `
if [[ $OS_ID == haos ]]; then
  echo "Home Assistant OS has no package manager: ${what} must be done by hand. MANUAL STEP: in Home Assistant open Settings > Add-ons > Add-on Store, install the official Tailscale add-on, paste a one-time auth key in its configuration and start it." >&2
  exit 3
fi
`;
