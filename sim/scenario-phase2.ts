// The pieces of phase 2, in the order the product and the owner do them: the internal-only bridges and the router
// VM with its installer (the product), OPNsense installed and configured (the owner's manual step), the guests moved
// onto their segments (app-host takes its SERVICES address at the link flap; Home Assistant OS only at a reboot),
// the datacenter and VM firewalls, and edge-gateway's path to the segments and its advertised routes.
import { callInternal } from './dispatch.ts';
import type { Params } from './http.ts';
import type { SimLab } from './lab.ts';
import { ownerConfiguresRouter } from './net/owner.ts';
import { buildRouterVm, nicMac, referenceRouterConfig } from './scenario-router.ts';

const NODE = '/nodes/proxmox';
const sortedTags = (tags: string[]): string => [...tags].sort().join(';');
export const SEGMENT_ROUTES = ['10.10.20.0/24', '10.10.30.0/24'];

/** The product's first half of phase 2: bridges without a port, the router VM booted from the OPNsense installer. */
export async function addSegmentsAndRouterVm(lab: SimLab): Promise<void> {
  await callInternal(lab, 'POST', `${NODE}/network`, { iface: 'vmbr1', type: 'bridge', autostart: '1', comments: 'SERVICES internal-only' });
  await callInternal(lab, 'POST', `${NODE}/network`, { iface: 'vmbr2', type: 'bridge', autostart: '1', comments: 'IOT internal-only' });
  await callInternal(lab, 'PUT', `${NODE}/network`, {});
  await buildRouterVm(lab);
  await callInternal(lab, 'PUT', '/cluster/backup/jarvis-daily', { vmid: '100,150,300,400' });
  await lab.boots.drain();
}

/** The owner's manual step: OPNsense installed and configured; app-host and Home Assistant get reserved addresses. */
export async function ownerFinishesRouter(lab: SimLab): Promise<void> {
  const macs = { wan: nicMac(lab, 150, 'net0'), services: nicMac(lab, 150, 'net1'), iot: nicMac(lab, 150, 'net2') };
  ownerConfiguresRouter(lab, 150, referenceRouterConfig(macs, { services: { [nicMac(lab, 300, 'net0')]: '10.10.20.30' }, iot: { [nicMac(lab, 400, 'net0')]: '10.10.30.40' } }));
  await lab.boots.drain();
}

/** The Debian guests Jarvis checks the network from and in get netcat (apt, on the LAN, as the product's phase 2 does). */
export async function checkersGetNetcat(lab: SimLab): Promise<void> {
  for (const vmid of [100, 300]) {
    const installed = await lab.guestExec(vmid, ['apt-get', 'install', '-y', '-q', 'netcat-openbsd']);
    if (installed.exitcode !== 0) throw new Error(`phase2 scenario: netcat on VM ${vmid}: ${installed.err}`);
  }
}

/** The reattachments, then a reboot of Home Assistant OS so that it takes its IOT address. */
export async function moveGuestsToSegments(lab: SimLab): Promise<void> {
  await callInternal(lab, 'PUT', `${NODE}/qemu/300/config`, { net0: 'virtio,bridge=vmbr1,firewall=1', tags: sortedTags(['env-lab', 'role-app-host', 'tier-services', 'owner-loic']) });
  await callInternal(lab, 'PUT', `${NODE}/qemu/400/config`, { net0: 'virtio,bridge=vmbr2,firewall=1', tags: sortedTags(['env-lab', 'role-home-assistant', 'tier-iot', 'owner-loic']) });
  await callInternal(lab, 'POST', `${NODE}/qemu/400/status/reboot`);
  await lab.boots.drain();
}

/** The tag Jarvis puts at the end of the comment of every firewall rule the reference spec owns (planner/firewall-owner.ts). */
const OWNED = ' [jarvis:jarvis-homelab]';

/**
 * The reference spec's firewall.cluster, the firewall wave's alias and node options, and per-VM segmentation as the
 * product compiles it: default deny on every managed VM's NIC, the allowed flows, each VM's own segment (but IOT to
 * Home Assistant only 8123/1883).
 */
export async function segmentationFirewall(lab: SimLab): Promise<void> {
  await callInternal(lab, 'POST', '/cluster/firewall/aliases', { name: 'proxmox-host', cidr: '192.168.1.10', comment: 'the node' });
  for (const [name, comment, cidr] of [
    ['mgmt-admins', 'admin LAN', '192.168.1.0/24'],
    ['seg-services', 'SERVICES segment', '10.10.20.0/24'],
    ['seg-iot', 'IOT segment', '10.10.30.0/24'],
    ['seg-lan', 'LAN segment (vmbr0)', '192.168.1.0/24'],
  ] as const) {
    await callInternal(lab, 'POST', '/cluster/firewall/ipset', { name, comment });
    await callInternal(lab, 'POST', `/cluster/firewall/ipset/${name}`, { cidr });
  }
  const rules: Params[] = [
    { action: 'DROP', source: '+seg-services', proto: 'tcp', dport: '22,8006', comment: 'SERVICES must not reach Proxmox management' },
    { action: 'DROP', source: '+seg-iot', proto: 'tcp', dport: '22,8006', comment: 'IOT must not reach Proxmox management' },
    { action: 'ACCEPT', source: '192.168.1.0/24', proto: 'tcp', dport: '22', comment: 'admin LAN to SSH' },
    { action: 'ACCEPT', source: '192.168.1.0/24', proto: 'tcp', dport: '8006', comment: 'admin LAN to the web UI' },
    { action: 'ACCEPT', source: '100.64.0.0/10', proto: 'tcp', dport: '22,8006', comment: 'Tailscale management' },
  ];
  for (const [pos, rule] of rules.entries()) await callInternal(lab, 'POST', '/cluster/firewall/rules', { type: 'in', enable: '1', pos: String(pos), ...rule, comment: `${String(rule.comment)}${OWNED}` });
  await callInternal(lab, 'PUT', `${NODE}/firewall/options`, { enable: '1' });
  const vmRules: Record<number, Params[]> = {
    // edge-gateway: its own segment, the LAN.
    100: [{ source: '+seg-lan', comment: 'LAN: within its own segment' }],
    // app-host: the LAN to Plex and Grafana, and SERVICES itself; IOT denied by the policy.
    300: [
      { source: '+seg-lan', proto: 'tcp', dport: '32400', comment: 'LAN to Plex' },
      { source: '+seg-lan', proto: 'tcp', dport: '3000', comment: 'LAN to Grafana' },
      { source: '+seg-services', comment: 'SERVICES: within its own segment' },
    ],
    // Home Assistant: from IOT only 8123 and 1883, from the LAN 8123.
    400: [
      { source: '+seg-iot', proto: 'tcp', dport: '8123', comment: 'IOT to Home Assistant' },
      { source: '+seg-iot', proto: 'tcp', dport: '1883', comment: 'IOT to MQTT' },
      { source: '+seg-lan', proto: 'tcp', dport: '8123', comment: 'LAN to Home Assistant' },
    ],
  };
  for (const [vmid, list] of Object.entries(vmRules)) {
    for (const [pos, rule] of list.entries()) {
      await callInternal(lab, 'POST', `${NODE}/qemu/${vmid}/firewall/rules`, { type: 'in', action: 'ACCEPT', enable: '1', pos: String(pos), ...rule, comment: `${String(rule.comment)}${OWNED}` });
    }
    await callInternal(lab, 'PUT', `${NODE}/qemu/${vmid}/firewall/options`, { enable: '1', policy_in: 'DROP' });
  }
  await callInternal(lab, 'PUT', '/cluster/firewall/options', { enable: '1', policy_in: 'DROP', policy_out: 'ACCEPT' });
}

/**
 * edge-gateway as the subnet router: a persistent route to both segments via the router's WAN address (netplan, and
 * `ip route replace` for now, as deploy/steps/network.ts does),
 * IP forwarding, the routes advertised, and approved in the tailnet.
 */
export async function edgeGatewayRoutes(lab: SimLab): Promise<void> {
  const routes = SEGMENT_ROUTES.map((to) => `        - to: ${to}\n          via: 192.168.1.2\n`).join('');
  const netplan = `network:\n  version: 2\n  ethernets:\n    eth0:\n      routes:\n${routes}`;
  const script = [
    'mkdir -p "$JARVIS_ROOT/etc/netplan" "$JARVIS_ROOT/etc/sysctl.d"',
    `printf '%s' '${netplan}' > "$JARVIS_ROOT/etc/netplan/60-jarvis-routes.yaml"`,
    ...SEGMENT_ROUTES.map((to) => `ip route replace ${to} via 192.168.1.2 dev eth0`),
    'printf "net.ipv4.ip_forward = 1\\n" > "$JARVIS_ROOT/etc/sysctl.d/99-tailscale.conf"',
    'sysctl -p "$JARVIS_ROOT/etc/sysctl.d/99-tailscale.conf"',
    `tailscale set --advertise-routes=${SEGMENT_ROUTES.join(',')}`,
  ].join(' && ');
  const result = await lab.guestExec(100, ['bash', '-c', script]);
  if (result.exitcode !== 0) throw new Error(`phase2 scenario: edge-gateway routes: ${result.err}`);
  const edge = [...lab.tailnet.devices.values()].find((d) => d.hostname === 'edge-gateway')!;
  edge.enabledRoutes = [...SEGMENT_ROUTES];
}
