// Guest steps for phase 2's network: the routes that send a LAN guest's traffic for SERVICES and IOT to the router VM
// (so edge-gateway's advertised Tailscale routes lead somewhere, and Jarvis can check the router from the LAN), and
// netcat-openbsd, which the in-guest connection checks use.
// Routes live in their own netplan file: netplan merges it into cloud-init's 50-cloud-init.yaml by interface id
// (cloud-init names net0 `eth0`, qemu-server Cloudinit.pm nocloud network config), so the guest keeps them across
// reboots; `ip route replace` puts them in place now, without `netplan apply` reconfiguring the links (edge-gateway
// runs Jarvis: its own address must not come and go).
import { z } from 'zod';
import { JARVIS_ROUTES_FILE, parseRoutesFile } from '../../infra/facts/guest.ts';
import { OS_RELEASE, PKG_INSTALLED, REQUIRE_APT } from './os.ts';
import { buildScript, cidr, parseArgs, plainName, runCheck, runScript } from './script.ts';
import type { Step } from './types.ts';

const ipv4 = z.string().regex(/^(?:\d{1,3}\.){3}\d{1,3}$/, 'must be an IPv4 address');
const routesArgs = z.object({
  iface: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name such as eth0'),
  routes: z.array(z.object({ to: cidr, via: ipv4 })).min(1),
});

/** The netplan document for the routes; parseRoutesFile (infra/facts/guest.ts) reads it back. */
export function routesFile(iface: string, routes: Array<{ to: string; via: string }>): string {
  return [
    '# Written by Jarvis (phase 2): the segments behind router VM 150. netplan merges it with 50-cloud-init.yaml.',
    'network:',
    '  version: 2',
    '  ethernets:',
    `    ${iface}:`,
    '      routes:',
    ...routes.flatMap((r) => [`        - to: ${r.to}`, `          via: ${r.via}`]),
    '',
  ].join('\n');
}

export const networkRoutes: Step = {
  id: 'network.routes',
  where: 'guest',
  async check(shell, args) {
    const a = parseArgs('network.routes', routesArgs, args);
    const out = await runScript(shell, buildScript({ FILE: JARVIS_ROUTES_FILE }, 'cat "$R$FILE" 2>/dev/null || true'), { what: 'network.routes (check)', timeoutSec: 60 });
    const have = parseRoutesFile(out);
    const missing = a.routes.filter((r) => !have.some((h) => h.to === r.to && h.via === r.via));
    return missing.length === 0
      ? { done: true, detail: `routes ${a.routes.map((r) => `${r.to} via ${r.via}`).join(', ')} in ${JARVIS_ROUTES_FILE}` }
      : { done: false, detail: `todo route ${missing.map((r) => `${r.to} via ${r.via}`).join(', ')}` };
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('network.routes', routesArgs, args);
    const script = buildScript({ FILE: JARVIS_ROUTES_FILE, CONTENT: routesFile(a.iface, a.routes), IFACE: a.iface, TO: a.routes.map((r) => r.to), VIA: a.routes.map((r) => r.via) }, `
install -d -m 0755 "$R$(dirname "$FILE")"
printf '%s' "$CONTENT" >"$R$FILE.tmp"
chmod 0600 "$R$FILE.tmp"
mv "$R$FILE.tmp" "$R$FILE"
for i in "\${!TO[@]}"; do ip route replace "\${TO[$i]}" via "\${VIA[$i]}" dev "$IFACE"; done
`);
    await runScript(shell, script, { what: 'network.routes', timeoutSec: 120, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};

const packagesArgs = z.object({ packages: z.array(plainName).min(1) });

/** Debian packages from the guest's configured repositories (netcat-openbsd for the checks). */
export const packagesInstall: Step = {
  id: 'packages.install',
  where: 'guest',
  async check(shell, args) {
    const a = parseArgs('packages.install', packagesArgs, args);
    return runCheck(shell, buildScript({ PACKAGES: a.packages }, `${PKG_INSTALLED}
for p in "\${PACKAGES[@]}"; do pkg_installed "$p" && echo "ok $p installed" || echo "todo install $p"; done
`), 'packages.install');
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('packages.install', packagesArgs, args);
    const script = buildScript({ PACKAGES: a.packages }, `${OS_RELEASE}${PKG_INSTALLED}${REQUIRE_APT(`installing ${a.packages.join(', ')}`)}
missing=()
for p in "\${PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
if ((\${#missing[@]})); then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "\${missing[@]}"
fi
`);
    await runScript(shell, script, { what: 'packages.install', timeoutSec: 600, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};
