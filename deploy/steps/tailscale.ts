// Guest steps for Tailscale: install from Tailscale's own apt repository (there is no Debian package), join the
// tailnet with an auth key sent on stdin (`--auth-key=file:/dev/stdin`: never on a command line, never echoed), and
// advertise subnet routes with IP forwarding on. Route approval is a Tailscale API action, not a step.
import { z } from 'zod';
import { JarvisError } from '../../lib/errors.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import { readTailscaleState } from '../../infra/facts/guest.ts';
import { OS_RELEASE, PKG_INSTALLED, REQUIRE_APT } from './os.ts';
import { buildScript, cidr, parseArgs, runCheck, runScript } from './script.ts';
import type { Step } from './types.ts';

export const TAILSCALE_AUTHKEY = 'TAILSCALE_AUTHKEY';

const INSTALL_STATE = `${OS_RELEASE}${PKG_INSTALLED}
installed=false enabled=false
pkg_installed tailscale && installed=true
$installed && systemctl is-enabled --quiet tailscaled && systemctl is-active --quiet tailscaled && enabled=true
`;

export const tailscaleInstall: Step = {
  id: 'tailscale.install',
  where: 'guest',
  async check(shell) {
    return runCheck(shell, buildScript({}, `${INSTALL_STATE}
[[ $OS_ID == haos ]] && { echo "todo install the Tailscale add-on by hand (Home Assistant OS)"; exit 0; }
$installed && echo "ok tailscale installed" || echo "todo install tailscale from pkgs.tailscale.com"
$enabled && echo "ok tailscaled enabled and running" || echo "todo enable tailscaled"
`), 'tailscale.install');
  },
  async apply(shell, _args, ctx) {
    const script = buildScript({}, `${INSTALL_STATE}${REQUIRE_APT('installing Tailscale', 'in Home Assistant open Settings > Add-ons > Add-on Store, install the official Tailscale add-on, paste a one-time auth key in its configuration and start it.')}
if ! $installed; then
  install -d -m 0755 "$R/usr/share/keyrings" "$R/etc/apt/sources.list.d"
  curl -fsSL "https://pkgs.tailscale.com/stable/debian/$CODENAME.noarmor.gpg" -o "$R/usr/share/keyrings/tailscale-archive-keyring.gpg"
  curl -fsSL "https://pkgs.tailscale.com/stable/debian/$CODENAME.tailscale-keyring.list" -o "$R/etc/apt/sources.list.d/tailscale.list"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q tailscale
fi
if ! $enabled; then
  systemctl enable --now tailscaled
fi
`);
    await runScript(shell, script, { what: 'tailscale.install', timeoutSec: 900, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};

const hostname = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label (a-z, 0-9, -)');
const joinArgs = z.object({
  hostname,
  advertiseRoutes: z.array(cidr).default([]),
  acceptRoutes: z.boolean().default(false),
});
const routesArgs = z.object({ advertiseRoutes: z.array(cidr) });

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

// Subnet routing needs IP forwarding; a drop-in file keeps it across reboots.
const FORWARDING = `
if ((\${#ROUTES[@]})); then
  conf="$R/etc/sysctl.d/99-tailscale.conf"
  want=$'net.ipv4.ip_forward = 1\\nnet.ipv6.conf.all.forwarding = 1'
  if [[ $(cat "$conf" 2>/dev/null) != "$want" ]]; then
    install -d -m 0755 "$R/etc/sysctl.d"
    printf '%s\\n' "$want" >"$conf"
    sysctl -q -p "$conf"
  fi
fi
`;

async function tailscaleState(shell: RemoteShell, what: string) {
  const state = await readTailscaleState(shell);
  if (!state.installed) throw new JarvisError('step-precondition', `${what} on ${shell.host}: tailscale is not installed (tailscale.install comes first)`);
  return state;
}

export const tailscaleJoin: Step = {
  id: 'tailscale.join',
  secrets: [TAILSCALE_AUTHKEY],
  where: 'guest',
  async check(shell, args) {
    const a = parseArgs('tailscale.join', joinArgs, args);
    const s = await readTailscaleState(shell);
    if (!s.installed) return { done: false, detail: 'tailscale is not installed yet' };
    const todo: string[] = [];
    if (!s.joined) todo.push(`join the tailnet as ${a.hostname}`);
    else {
      if (s.hostname !== a.hostname) todo.push(`rename ${s.hostname ?? '(none)'} to ${a.hostname}`);
      if (!sameSet(s.advertisedRoutes, a.advertiseRoutes)) todo.push(`advertise [${a.advertiseRoutes.join(', ')}] (now [${s.advertisedRoutes.join(', ')}])`);
      if (s.acceptRoutes !== a.acceptRoutes) todo.push(`set accept-routes=${a.acceptRoutes}`);
    }
    return todo.length ? { done: false, detail: todo.join('; ') } : { done: true, detail: `joined as ${a.hostname}` };
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('tailscale.join', joinArgs, args);
    const s = await tailscaleState(shell, 'tailscale.join');
    const flags = [`--hostname=${a.hostname}`, `--advertise-routes=${a.advertiseRoutes.join(',')}`, `--accept-routes=${a.acceptRoutes}`];
    const vars = { FLAGS: flags, ROUTES: a.advertiseRoutes };
    const onOutput = ctx.onOutput ? { onOutput: ctx.onOutput } : {};
    if (!s.joined) {
      // The key is read only here and goes only into the channel's stdin; tailscale reads it from /dev/stdin.
      const key = ctx.secrets.get(TAILSCALE_AUTHKEY);
      const script = buildScript(vars, `${FORWARDING}
tailscale up --auth-key=file:/dev/stdin "\${FLAGS[@]}" --timeout=120s
echo "joined the tailnet"
`);
      await runScript(shell, script, { what: 'tailscale.join', timeoutSec: 180, stdin: key, ...onOutput });
      return;
    }
    const changed =
      s.hostname !== a.hostname || !sameSet(s.advertisedRoutes, a.advertiseRoutes) || s.acceptRoutes !== a.acceptRoutes;
    const script = buildScript({ ...vars, CHANGED: changed }, `${FORWARDING}
if $CHANGED; then tailscale set "\${FLAGS[@]}"; echo "updated tailscale settings"; else echo "already joined as wanted"; fi
`);
    await runScript(shell, script, { what: 'tailscale.join', ...onOutput });
  },
};

export const tailscaleRoutes: Step = {
  id: 'tailscale.routes',
  where: 'guest',
  async check(shell, args) {
    const a = parseArgs('tailscale.routes', routesArgs, args);
    const s = await readTailscaleState(shell);
    if (!s.joined) return { done: false, detail: 'tailscale is not joined yet' };
    return sameSet(s.advertisedRoutes, a.advertiseRoutes)
      ? { done: true, detail: `advertising [${a.advertiseRoutes.join(', ')}]` }
      : { done: false, detail: `advertise [${a.advertiseRoutes.join(', ')}] (now [${s.advertisedRoutes.join(', ')}])` };
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('tailscale.routes', routesArgs, args);
    const s = await tailscaleState(shell, 'tailscale.routes');
    if (!s.joined) throw new JarvisError('step-precondition', `tailscale.routes on ${shell.host}: not joined to the tailnet (tailscale.join comes first)`);
    const changed = !sameSet(s.advertisedRoutes, a.advertiseRoutes);
    const script = buildScript({ ROUTES: a.advertiseRoutes, LIST: a.advertiseRoutes.join(','), CHANGED: changed }, `${FORWARDING}
if $CHANGED; then tailscale set --advertise-routes="$LIST"; echo "advertising $LIST"; else echo "routes already advertised"; fi
`);
    await runScript(shell, script, { what: 'tailscale.routes', ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};
