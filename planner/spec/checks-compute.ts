// Guardrails on the node, its bridges and the VMs: single node, stable VMIDs, tags, build standards, sizing,
// provisioning, host networking in phase 0, internal-only bridges and phase consistency.
import { isValidTag } from '../../lib/pve-formats.ts';
import type { SpecPath } from './diagnostic.ts';
import { phasesFrom, vmAtPhase, type GuardrailContext } from './guardrail-context.ts';
import type { VmSpec } from './schema.ts';

export const NODE_NAME = 'proxmox';

/** Stable VMID and name of each role (architecture document, "Proxmox build standards" and "Deployment phases"). */
export const STABLE_VMS: Record<VmSpec['role'], { vmid: number; name?: string }> = {
  'edge-gateway': { vmid: 100, name: 'edge-gateway' },
  'firewall-router': { vmid: 150, name: 'firewall-router' },
  monitoring: { vmid: 200 },
  'app-host': { vmid: 300, name: 'app-host' },
  'home-assistant': { vmid: 400, name: 'home-assistant' },
  pbs: { vmid: 700 },
};

/** Document sizes: [min, max] for cores, memory (MiB) and total disk (GiB). */
const SIZES: Partial<Record<VmSpec['role'], { cores: [number, number]; memory: [number, number]; disk: [number, number] }>> = {
  'edge-gateway': { cores: [1, 2], memory: [1024, 2048], disk: [16, 32] },
  'app-host': { cores: [4, 4], memory: [6144, 10240], disk: [64, 128] },
  'home-assistant': { cores: [2, 2], memory: [2048, 4096], disk: [32, 64] },
};

const TIER_OF_BRIDGE_ROLE = { lan: 'tier-lan', services: 'tier-services', iot: 'tier-iot' } as const;
const REQUIRED_STACKS = ['plex', 'jarvis', 'monitoring', 'kargo-preprod'];

export function checkNode(ctx: GuardrailContext): void {
  if (ctx.spec.node.name !== NODE_NAME) {
    ctx.report('node.single', ['node', 'name'], `node "${ctx.spec.node.name}" is not the lab's single node`, `set node.name: ${NODE_NAME}`);
  }
}

export function checkVmIdentity(ctx: GuardrailContext): void {
  ctx.spec.vms.forEach((vm, vi) => {
    const stable = STABLE_VMS[vm.role];
    if (vm.vmid !== stable.vmid) {
      ctx.report('vmid.stable-unique', ['vms', vi, 'vmid'], `${vm.role} must keep its stable VMID ${stable.vmid} (got ${vm.vmid})`, `set vmid: ${stable.vmid}`);
    }
    if (stable.name && vm.name !== stable.name) {
      ctx.report('vmid.stable-unique', ['vms', vi, 'name'], `VM ${stable.vmid} (${vm.role}) must be named ${stable.name}`, `set name: ${stable.name}`);
    }
  });
}

export function checkTags(ctx: GuardrailContext): void {
  const { spec } = ctx;
  spec.vms.forEach((vm, vi) => {
    const lists: Array<[SpecPath, string[] | undefined]> = [
      [['vms', vi, 'tags'], vm.tags],
      [['vms', vi, 'overrides', 'phase1', 'tags'], vm.overrides?.phase1?.tags],
      [['vms', vi, 'overrides', 'phase2', 'tags'], vm.overrides?.phase2?.tags],
    ];
    for (const [path, tags] of lists) {
      tags?.forEach((tag, ti) => {
        if (!isValidTag(tag)) {
          const suggestion = tag.toLowerCase().replace(/[^a-z0-9_\-+.]+/g, '-').replace(/^[-+.]+/, '');
          ctx.report('tags.format', [...path, ti], `"${tag}" is not a Proxmox tag (letters, digits, _ - + . only; no "=", ":", "/" or spaces)`, `write it as "${suggestion}"`);
        }
      });
    }
    for (const phase of phasesFrom(spec, vm.phase)) {
      const eff = vmAtPhase(vm, vi, phase);
      const missing: string[] = [];
      if (!eff.tags.some((t) => t.startsWith('env-'))) missing.push('env-lab');
      if (!eff.tags.includes(`role-${vm.role}`)) missing.push(`role-${vm.role}`);
      if (!eff.tags.some((t) => t.startsWith('owner-'))) missing.push('owner-loic');
      const bridge = spec.network.bridges.find((b) => b.iface === eff.net[0]?.bridge);
      const tier = bridge ? TIER_OF_BRIDGE_ROLE[bridge.role] : eff.net[0]?.bridge === 'vmbr0' ? 'tier-lan' : undefined;
      const wrongTier = tier !== undefined && !eff.tags.includes(tier);
      if (missing.length > 0 || wrongTier) {
        const text = [...missing, ...(wrongTier ? [tier] : [])].join(', ');
        ctx.report('tags.scheme', eff.tagsPath, `in phase ${phase} ${vm.name} lacks the scheme tags ${text}`, `add ${text} (env-…, role-<role>, tier-<segment of its first NIC>, owner-…)`);
        break;
      }
    }
  });
}

export function checkBuildStandards(ctx: GuardrailContext): void {
  ctx.spec.vms.forEach((vm, vi) => {
    const nicLists: Array<[SpecPath, VmSpec['net'] | undefined]> = [
      [['vms', vi, 'net'], vm.net],
      [['vms', vi, 'overrides', 'phase1', 'net'], vm.overrides?.phase1?.net],
      [['vms', vi, 'overrides', 'phase2', 'net'], vm.overrides?.phase2?.net],
    ];
    for (const [path, nics] of nicLists) {
      nics?.forEach((nic, ni) => {
        if (nic.model !== 'virtio') ctx.report('vm.build-standards', [...path, ni, 'model'], `NIC model "${nic.model}" is not VirtIO`, 'set model: virtio');
      });
    }
    if (!['virtio-scsi-single', 'virtio-scsi-pci'].includes(vm.scsihw)) {
      ctx.report('vm.build-standards', ['vms', vi, 'scsihw'], `SCSI controller "${vm.scsihw}" is not VirtIO SCSI`, 'set scsihw: virtio-scsi-single');
    }
    vm.disks.forEach((disk, di) => {
      if (disk.cache !== 'none') ctx.report('vm.build-standards', ['vms', vi, 'disks', di, 'cache'], `disk cache "${disk.cache}" is not none`, 'set cache: none');
    });
    if (!vm.onboot && STABLE_VMS[vm.role].name) {
      ctx.report('vm.autostart', ['vms', vi, 'onboot'], `${vm.name} will not start again after the node reboots`, 'set onboot: true');
    }
    if (!vm.agent) {
      ctx.report('vm.guest-agent', ['vms', vi, 'agent'], `QEMU guest agent is off on ${vm.name}; Jarvis cannot read its IPs or run provisioning through it`, 'set agent: true and install qemu-guest-agent in the guest');
    }
  });
}

export function checkSizing(ctx: GuardrailContext): void {
  ctx.spec.vms.forEach((vm, vi) => {
    const size = SIZES[vm.role];
    if (!size) return;
    const within = (v: number, [lo, hi]: [number, number]) => v >= lo && v <= hi;
    const values: Array<[SpecPath, 'cores' | 'memory', number | undefined]> = [
      [['vms', vi, 'cores'], 'cores', vm.cores],
      [['vms', vi, 'memory'], 'memory', vm.memory],
      [['vms', vi, 'overrides', 'phase1', 'cores'], 'cores', vm.overrides?.phase1?.cores],
      [['vms', vi, 'overrides', 'phase1', 'memory'], 'memory', vm.overrides?.phase1?.memory],
      [['vms', vi, 'overrides', 'phase2', 'cores'], 'cores', vm.overrides?.phase2?.cores],
      [['vms', vi, 'overrides', 'phase2', 'memory'], 'memory', vm.overrides?.phase2?.memory],
    ];
    for (const [path, field, value] of values) {
      if (value === undefined || within(value, size[field])) continue;
      const unit = field === 'memory' ? ' MiB' : ' cores';
      ctx.report('vm.sizing', path, `${vm.name} has ${value}${unit}; the document plans ${size[field].join('–')}${unit}`, `use ${size[field].join('–')}${unit}, or keep it on purpose and say why in description`);
    }
    const disk = vm.disks.reduce((sum, d) => sum + d.size, 0);
    if (!within(disk, size.disk)) ctx.report('vm.sizing', ['vms', vi, 'disks'], `${vm.name} has ${disk} GiB of disk; the document plans ${size.disk.join('–')} GiB`, `size its disks to ${size.disk.join('–')} GiB`);
  });
}

export function checkProvisioning(ctx: GuardrailContext): void {
  const { spec } = ctx;
  if (spec.metadata.scope !== 'full') return;
  spec.vms.forEach((vm, vi) => {
    const p = vm.provision;
    const path: SpecPath = ['vms', vi];
    if ((vm.role === 'edge-gateway' || vm.role === 'home-assistant') && vm.phase === 0 && (!p?.tailscale || p.tailscale.phase !== 0)) {
      ctx.report('provision.standards', p ? [...path, 'provision'] : path, `${vm.name} should join the tailnet in phase 0 (in-guest Tailscale)`, `add provision.tailscale: { hostname: ${vm.name} }`);
    }
    if (vm.role === 'app-host') {
      const stacks = p?.docker?.stacks.map((s) => s.name) ?? [];
      const missing = REQUIRED_STACKS.filter((s) => !stacks.includes(s));
      if (!p?.docker || !p.docker.compose || missing.length > 0) {
        ctx.report('provision.standards', p?.docker ? [...path, 'provision', 'docker'] : path, `app-host should run Docker + Compose with the stacks ${REQUIRED_STACKS.join(', ')}${missing.length ? ` (missing ${missing.join(', ')})` : ''}`, 'add provision.docker with compose: true and those stacks');
      }
    }
    const published = new Map<string, string>();
    p?.docker?.stacks.forEach((stack, si) =>
      stack.ports.forEach((mapping, mi) => {
        const hostPort = mapping.split(':').slice(0, -1).join(':');
        const owner = published.get(hostPort);
        if (owner !== undefined) {
          ctx.report('provision.port-conflict', [...path, 'provision', 'docker', 'stacks', si, 'ports', mi], `host port ${hostPort} is already published by stack ${owner}`, 'give each stack its own host port');
        } else if (hostPort) published.set(hostPort, stack.name);
      }),
    );
    if (vm.role === 'home-assistant' && vm.os !== 'haos') {
      ctx.report('provision.standards', [...path, 'os'], `home-assistant runs os: ${vm.os ?? 'unset'}; Home Assistant OS is the preferred, more reliable choice`, 'keep it only if chosen on purpose; otherwise os: haos with image.url');
    }
  });
}

export function checkNetwork(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const seen = new Set<string>();
  spec.network.bridges.forEach((bridge, bi) => {
    const path: SpecPath = ['network', 'bridges', bi];
    if (seen.has(bridge.iface)) ctx.report('network.bridge-refs', [...path, 'iface'], `bridge ${bridge.iface} is declared twice`, 'keep one entry per bridge');
    seen.add(bridge.iface);
    if (bridge.role !== 'lan' && bridge.bridge_ports.length > 0) {
      ctx.report('bridge.internal-no-ports', [...path, 'bridge_ports'], `${bridge.iface} (${bridge.role.toUpperCase()}) is internal-only but has physical port(s) ${bridge.bridge_ports.join(', ')}`, 'set bridge_ports: [] — only the router VM connects internal bridges to the LAN');
    }
    if (bridge.role === 'lan' && bridge.bridge_ports.length === 0) {
      ctx.report('bridge.internal-no-ports', [...path, 'bridge_ports'], `${bridge.iface} is the LAN bridge but has no physical uplink`, 'set bridge_ports to the NIC (e.g. [enp3s0])');
    }
    if (bridge.bridge_vlan_aware) {
      ctx.report('network.no-vlan', [...path, 'bridge_vlan_aware'], 'VLAN-aware bridges need VLAN trunking, which this lab does not have (no managed switch)', 'set bridge_vlan_aware: false and segment with internal-only bridges');
    }
    if (bridge.phase === 0 && bridge.role !== 'lan' && !spec.safetyGuards.allowHostNetworkChanges) {
      ctx.report('phase0.host-network', [...path, 'phase'], `creating ${bridge.iface} in phase 0 changes host networking`, 'move it to phase 2, or set safetyGuards.allowHostNetworkChanges: true on purpose');
    }
  });
  spec.vms.forEach((vm, vi) => {
    for (const phase of phasesFrom(spec, vm.phase)) {
      const eff = vmAtPhase(vm, vi, phase);
      eff.net.forEach((nic, ni) => {
        const bridge = spec.network.bridges.find((b) => b.iface === nic.bridge);
        // vmbr0 is the installer's bridge: it exists even when the spec does not describe it.
        if ((bridge && bridge.phase <= phase) || (!bridge && nic.bridge === 'vmbr0')) return;
        ctx.report('network.bridge-refs', [...eff.netPath, ni, 'bridge'], bridge ? `${nic.bridge} only exists from phase ${bridge.phase}, but ${vm.name} uses it in phase ${phase}` : `bridge ${nic.bridge} is not declared under network.bridges`,
          bridge ? `attach ${vm.name} to ${nic.bridge} in overrides.phase${bridge.phase}` : 'declare the bridge or use vmbr0');
      });
    }
  });
}

/** Phase numbers must make sense: nothing beyond maxPhase, overrides only after the item's own phase. */
export function checkPhases(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const max = spec.metadata.maxPhase;
  const beyond = (phase: number | undefined, path: SpecPath, what: string) => {
    if (phase !== undefined && phase > max) ctx.report('phase.consistency', path, `${what} is phase ${phase}, beyond metadata.maxPhase ${max}`, `raise metadata.maxPhase to ${phase} or move it to phase ${max}`);
  };
  spec.network.bridges.forEach((b, i) => beyond(b.phase, ['network', 'bridges', i, 'phase'], `bridge ${b.iface}`));
  spec.vms.forEach((vm, vi) => {
    beyond(vm.phase, ['vms', vi, 'phase'], `VM ${vm.vmid}`);
    for (const key of ['phase1', 'phase2'] as const) {
      const n = Number(key.slice(5));
      if (vm.overrides?.[key] === undefined) continue;
      if (n <= vm.phase) ctx.report('phase.consistency', ['vms', vi, 'overrides', key], `${vm.name} is created in phase ${vm.phase}, so a ${key} override is never an update`, `fold it into the VM's own fields or drop it`);
      beyond(n, ['vms', vi, 'overrides', key], `${vm.name}'s override`);
    }
    if (vm.provision?.tailscale && vm.provision.tailscale.phase < vm.phase) {
      ctx.report('phase.consistency', ['vms', vi, 'provision', 'tailscale', 'phase'], `Tailscale is phase ${vm.provision.tailscale.phase} but ${vm.name} only exists from phase ${vm.phase}`, `set phase: ${vm.phase}`);
    }
  });
  spec.storage?.zfs?.pools.forEach((p, i) => beyond(p.phase, ['storage', 'zfs', 'pools', i, 'phase'], `pool ${p.name}`));
  spec.backups?.jobs.forEach((j, i) => beyond(j.phase, ['backups', 'jobs', i, 'phase'], `backup job ${j.id}`));
  beyond(spec.firewall?.cluster?.phase, ['firewall', 'cluster', 'phase'], 'the datacenter firewall');
  beyond(spec.firewall?.segmentation?.phase, ['firewall', 'segmentation', 'phase'], 'segmentation');
}

/** A firewall-only wave touches nothing but the firewall. */
export function checkScope(ctx: GuardrailContext): void {
  const { spec } = ctx;
  if (spec.metadata.scope !== 'firewall') return;
  const extras: Array<[SpecPath, boolean]> = [
    [['vms'], spec.vms.length > 0],
    [['network'], spec.network.bridges.length > 0],
    [['storage'], spec.storage !== undefined],
    [['migrations'], spec.migrations.length > 0],
    [['backups'], spec.backups !== undefined],
    [['tailscale'], spec.tailscale !== undefined],
  ];
  for (const [path, present] of extras) {
    if (present) ctx.report('scope.firewall-only', path, `a firewall-only wave (metadata.scope: firewall) must not declare ${String(path[0])}`, `remove ${String(path[0])} or set metadata.scope: full`);
  }
  if (!spec.firewall?.cluster && !spec.firewall?.node) {
    ctx.report('scope.firewall-only', ['metadata', 'scope'], 'a firewall-only wave declares no firewall', 'add firewall.cluster and/or firewall.node');
  }
}
