// QEMU VMs: create, config (GET/PUT/POST with digest), destroy, power, status, resize and snapshots, with
// qemu-server's locks and messages.
import { parsePropertyString } from '../../lib/pve-formats.ts';
import { agentEnabled, powerOff, powerOn } from '../boot.ts';
import { checkSshKeys } from '../cloudinit.ts';
import { bool, fail, str, type Params } from '../http.ts';
import type { SimLab, SimVm } from '../lab.ts';
import { applyPending, effectiveConfig, isHotpluggable, pendingRows, vmDigest } from '../pending.ts';
import { applyConfigParams, checkDriveParams, CONTROL_PARAMS, defaultBootOrder, deleteKeys } from '../vm-apply.ts';
import { NET_KEY, parseSize, type VmConfig } from '../vm-config.ts';
import { checkNode, vmResource } from './cluster.ts';
import { bringDown, nicsChanged } from '../net/guest-net.ts';
import { vmNics } from '../net/segments.ts';
import type { RouteContext, RouteTable } from './types.ts';

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function checkDigest(vm: SimVm, params: Params): void {
  const digest = str(params, 'digest');
  if (digest !== undefined && digest !== vmDigest(vm)) fail('detected modified configuration - file changed by other user? Try again.');
}

export function vmCtx(ctx: RouteContext): SimVm {
  checkNode(ctx.path.node, ctx.lab);
  return ctx.lab.vm(ctx.path.vmid ?? '');
}

export function lockedTask(ctx: RouteContext, vm: SimVm, lock: string, type: string, lines: string[], run: () => string[] | void): string {
  ctx.lab.assertUnlocked(vm, bool(ctx.params, 'skiplock'));
  vm.config.lock = lock;
  return ctx.lab.tasks.start(type, String(vm.vmid), ctx.user, {
    lines,
    run,
    finally: () => {
      if (vm.config.lock === lock) delete vm.config.lock;
    },
  });
}

/** qemu-server vm_start: pending changes applied, bridges checked, the cloud-init drive generated, then the boot. */
function startVm(lab: SimLab, vm: SimVm): void {
  if (vm.status === 'running') fail(`VM ${vm.vmid} already running`);
  applyPending(vm);
  for (const [key, value] of Object.entries(vm.config)) {
    if (!NET_KEY.test(key)) continue;
    const bridge = /bridge=([^,]+)/.exec(value)?.[1];
    if (bridge && !lab.network.has(bridge)) fail(`bridge '${bridge}' does not exist`);
  }
  powerOn(lab, vm);
}

/**
 * QemuServer.pm _do_vm_stop with shutdown: the guest must act on the ACPI power button (or the agent's
 * guest-shutdown); firmware with nothing booted ignores it and the shutdown times out unless forceStop.
 */
function guestPowerdown(booted: boolean, forceStop: boolean): string[] {
  if (booted) return [];
  if (!forceStop) fail('VM quit/powerdown failed - got timeout');
  return ['VM still running - terminating now with SIGTERM'];
}

/**
 * Qemu.pm create_vm: parameters are checked at once, the config is created locked, and the worker creates the disks
 * (importing where asked) and writes the config. A failing worker removes the VM again; a start that fails after the
 * create is only reported in the log (`Execute autostart`), as PVE warns and ends the task OK.
 */
export function createVm(lab: SimLab, user: string, params: Params): string {
  const vmid = Number(str(params, 'vmid'));
  if (lab.vms.has(vmid)) fail(`unable to create VM ${vmid} - VM ${vmid} already exists on node '${lab.node}'`);
  if (str(params, 'archive') !== undefined) fail('restoring from an archive is not supported by the simulator');
  checkDriveParams(lab, params);
  checkSshKeys(str(params, 'sshkeys'));
  const vm: SimVm = { vmid, config: { lock: 'create' }, pending: {}, pendingDelete: new Set(), status: 'stopped', snapshots: [], firewall: { options: {}, rules: [] }, execs: new Map() };
  lab.vms.set(vmid, vm);
  const start = bool(params, 'start');
  return lab.tasks.start('qmcreate', String(vmid), user, {
    run: () => {
      const config: VmConfig = {};
      const volumesBefore = lab.volumes.length;
      let log: string[];
      try {
        log = applyConfigParams(lab, vmid, config, params);
      } catch (error) {
        lab.volumes.splice(volumesBefore);
        lab.vms.delete(vmid);
        throw new Error(`unable to create VM ${vmid} - ${error instanceof Error ? error.message : String(error)}`);
      }
      config.boot ??= defaultBootOrder(config);
      config.smbios1 = `uuid=${uuidFrom(lab)}`;
      config.vmgenid = uuidFrom(lab);
      config.meta = `creation-qemu=10.0.2,ctime=${nowSeconds()}`;
      vm.config = config;
      if (!start) return log;
      log.push('Execute autostart');
      try {
        startVm(lab, vm);
      } catch (error) {
        log.push(error instanceof Error ? error.message : String(error));
      }
      return log;
    },
    finally: () => {
      if (vm.config.lock === 'create') delete vm.config.lock;
    },
  });
}

function uuidFrom(lab: SimLab): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(lab.random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function updateConfig(ctx: RouteContext): SimVm {
  const vm = vmCtx(ctx);
  ctx.lab.assertUnlocked(vm, bool(ctx.params, 'skiplock'));
  checkDigest(vm, ctx.params);
  for (const key of (str(ctx.params, 'revert') ?? '').split(/[,;\s]+/).filter(Boolean)) {
    delete vm.pending[key];
    vm.pendingDelete.delete(key);
  }
  checkDriveParams(ctx.lab, ctx.params);
  checkSshKeys(str(ctx.params, 'sshkeys'));
  if (vm.status !== 'running') {
    applyPending(vm);
    deleteKeys(ctx.lab, vm, str(ctx.params, 'delete'));
    applyConfigParams(ctx.lab, vm.vmid, vm.config, ctx.params);
    return vm;
  }
  // Running: hot-pluggable changes apply now, the rest wait in [PENDING] for the next start.
  const hot: Params = {};
  const cold: Params = {};
  for (const [key, value] of Object.entries(ctx.params)) {
    if (CONTROL_PARAMS.has(key)) continue;
    (isHotpluggable(key, vm.config) ? hot : cold)[key] = value;
  }
  const deletions = (str(ctx.params, 'delete') ?? '').split(/[,;\s]+/).filter(Boolean);
  const nicsBefore = vmNics(vm);
  deleteKeys(ctx.lab, vm, deletions.filter((key) => isHotpluggable(key, vm.config)).join(','));
  for (const key of deletions.filter((k) => !isHotpluggable(k, vm.config))) {
    delete vm.pending[key];
    if (vm.config[key] !== undefined) vm.pendingDelete.add(key);
  }
  applyConfigParams(ctx.lab, vm.vmid, vm.config, hot);
  // Hot-plugged NICs: the guest sees a link flap, a new device or one gone (QemuServer.pm vmconfig_update_net).
  nicsChanged(ctx.lab, vm, nicsBefore);
  const staged = effectiveConfig(vm);
  applyConfigParams(ctx.lab, vm.vmid, staged, cold);
  for (const key of Object.keys(cold)) {
    vm.pendingDelete.delete(key);
    if (staged[key] === vm.config[key]) delete vm.pending[key];
    else vm.pending[key] = staged[key]!;
  }
  return vm;
}

function listRow(lab: SimLab, vm: SimVm): Record<string, unknown> {
  const resource = vmResource(lab, vm.vmid);
  const row: Record<string, unknown> = {
    vmid: vm.vmid,
    name: resource.name,
    status: vm.status,
    cpus: resource.maxcpu,
    maxmem: resource.maxmem,
    mem: resource.mem,
    maxdisk: resource.maxdisk,
    disk: 0,
    uptime: resource.uptime,
    netin: resource.netin,
    netout: resource.netout,
    diskread: 0,
    diskwrite: 0,
    cpu: resource.cpu,
  };
  if (vm.status === 'running') row.pid = 100_000 + vm.vmid;
  if (vm.config.tags) row.tags = vm.config.tags;
  if (vm.config.lock) row.lock = vm.config.lock;
  return row;
}

export const qemuRoutes: RouteTable = {
  'GET /nodes/{node}/qemu': ({ lab, path }) => {
    checkNode(path.node, lab);
    return [...lab.vms.values()].sort((a, b) => a.vmid - b.vmid).map((vm) => listRow(lab, vm));
  },
  'POST /nodes/{node}/qemu': ({ lab, path, params, user }) => {
    checkNode(path.node, lab);
    return createVm(lab, user, params);
  },
  'GET /nodes/{node}/qemu/{vmid}': (ctx) => {
    vmCtx(ctx);
    return ['config', 'status', 'snapshot', 'agent', 'firewall', 'resize'].map((subdir) => ({ subdir }));
  },
  'GET /nodes/{node}/qemu/{vmid}/config': (ctx) => {
    const vm = vmCtx(ctx);
    const snapname = str(ctx.params, 'snapshot');
    const current = bool(ctx.params, 'current') ? vm.config : effectiveConfig(vm);
    const config = snapname ? (vm.snapshots.find((s) => s.name === snapname) ?? fail(`snapshot '${snapname}' does not exist`)).config : current;
    return { ...typedConfig(config), digest: vmDigest(vm) };
  },
  'GET /nodes/{node}/qemu/{vmid}/pending': (ctx) => {
    const vm = vmCtx(ctx);
    return pendingRows(vm);
  },
  'PUT /nodes/{node}/qemu/{vmid}/config': (ctx) => {
    updateConfig(ctx);
    return null;
  },
  'POST /nodes/{node}/qemu/{vmid}/config': (ctx) => {
    const vm = updateConfig(ctx);
    return ctx.lab.tasks.start('qmconfig', String(vm.vmid), ctx.user, { seconds: 0 });
  },
  'PUT /nodes/{node}/qemu/{vmid}/resize': (ctx) => {
    const vm = vmCtx(ctx);
    ctx.lab.assertUnlocked(vm, bool(ctx.params, 'skiplock'));
    checkDigest(vm, ctx.params);
    const disk = str(ctx.params, 'disk') ?? '';
    const value = vm.config[disk] ?? fail(`disk '${disk}' does not exist`);
    const drive = parsePropertyString(value, 'file');
    const current = parseSize(drive.size);
    const sizeParam = str(ctx.params, 'size') ?? '';
    const requested = sizeParam.startsWith('+') ? current + parseSize(sizeParam.slice(1)) : parseSize(sizeParam);
    if (requested < current) fail(`shrinking disks is not supported`);
    return ctx.lab.tasks.start('resize', String(vm.vmid), ctx.user, {
      run: () => {
        const gib = Math.ceil(requested / 1024 ** 3);
        vm.config[disk] = value.replace(/size=[^,]+/, `size=${gib}G`);
        const volume = ctx.lab.volumes.find((v) => v.volid === drive.file);
        if (volume) volume.size = gib * 1024 ** 3;
      },
    });
  },
  'DELETE /nodes/{node}/qemu/{vmid}': (ctx) => {
    const vm = vmCtx(ctx);
    if (vm.status === 'running') fail(`VM ${vm.vmid} is running - destroy failed`);
    return lockedTask(ctx, vm, 'destroyed', 'qmdestroy', [], () => {
      ctx.lab.vms.delete(vm.vmid);
      ctx.lab.guestSystem.forget(vm.vmid);
      bringDown(ctx.lab, vm.vmid);
      for (let i = ctx.lab.volumes.length - 1; i >= 0; i--) if (ctx.lab.volumes[i]!.vmid === vm.vmid && ctx.lab.volumes[i]!.content === 'images') ctx.lab.volumes.splice(i, 1);
      if (bool(ctx.params, 'purge')) {
        for (const job of ctx.lab.backupJobs.values()) {
          if (typeof job.vmid === 'string') job.vmid = job.vmid.split(',').filter((id) => id !== String(vm.vmid)).join(',');
        }
      }
      return [`Removing image: 100% complete...done.`];
    });
  },
  'GET /nodes/{node}/qemu/{vmid}/status': (ctx) => {
    vmCtx(ctx);
    return ['current', 'start', 'stop', 'shutdown', 'reboot'].map((subdir) => ({ subdir }));
  },
  'GET /nodes/{node}/qemu/{vmid}/status/current': (ctx) => {
    const vm = vmCtx(ctx);
    const resource = vmResource(ctx.lab, vm.vmid);
    const row: Record<string, unknown> = {
      vmid: vm.vmid,
      name: resource.name,
      status: vm.status,
      qmpstatus: vm.status,
      uptime: resource.uptime,
      cpu: resource.cpu,
      cpus: resource.maxcpu,
      mem: resource.mem,
      maxmem: resource.maxmem,
      maxdisk: resource.maxdisk,
      disk: 0,
      netin: resource.netin,
      netout: resource.netout,
      diskread: 0,
      diskwrite: 0,
      ha: { managed: 0 },
    };
    if (agentEnabled(vm.config)) row.agent = 1;
    if (vm.status === 'running') row.pid = 100_000 + vm.vmid;
    if (vm.config.tags) row.tags = vm.config.tags;
    if (vm.config.lock) row.lock = vm.config.lock;
    return row;
  },
  'POST /nodes/{node}/qemu/{vmid}/status/start': (ctx) => {
    const vm = vmCtx(ctx);
    ctx.lab.assertUnlocked(vm, bool(ctx.params, 'skiplock'));
    return ctx.lab.tasks.start('qmstart', String(vm.vmid), ctx.user, { run: () => startVm(ctx.lab, vm) });
  },
  // The guest goes down as soon as the request is taken: its agent is gone from then until it has booted again.
  'POST /nodes/{node}/qemu/{vmid}/status/stop': (ctx) => {
    const vm = vmCtx(ctx);
    ctx.lab.assertUnlocked(vm, bool(ctx.params, 'skiplock'));
    powerOff(ctx.lab, vm);
    return ctx.lab.tasks.start('qmstop', String(vm.vmid), ctx.user, {
      run: () => {
        vm.status = 'stopped';
        delete vm.startedAt;
      },
    });
  },
  'POST /nodes/{node}/qemu/{vmid}/status/shutdown': (ctx) => {
    const vm = vmCtx(ctx);
    ctx.lab.assertUnlocked(vm, bool(ctx.params, 'skiplock'));
    const booted = vm.boot?.os !== undefined;
    powerOff(ctx.lab, vm);
    return ctx.lab.tasks.start('qmshutdown', String(vm.vmid), ctx.user, {
      run: () => {
        if (vm.status !== 'running') fail(`VM ${vm.vmid} not running`);
        const lines = guestPowerdown(booted, bool(ctx.params, 'forceStop'));
        vm.status = 'stopped';
        delete vm.startedAt;
        return lines;
      },
    });
  },
  'POST /nodes/{node}/qemu/{vmid}/status/reboot': (ctx) => {
    const vm = vmCtx(ctx);
    ctx.lab.assertUnlocked(vm, bool(ctx.params, 'skiplock'));
    const booted = vm.boot?.os !== undefined;
    powerOff(ctx.lab, vm);
    return ctx.lab.tasks.start('qmreboot', String(vm.vmid), ctx.user, {
      run: () => {
        if (vm.status !== 'running') fail(`VM ${vm.vmid} not running`);
        guestPowerdown(booted, false);
        vm.status = 'stopped';
        startVm(ctx.lab, vm);
      },
    });
  },
};

const NUMERIC_KEYS = new Set(['cores', 'sockets', 'vcpus', 'onboot', 'numa', 'balloon', 'shares', 'template', 'protection', 'tablet', 'kvm', 'acpi', 'cpulimit', 'cpuunits', 'migrate_downtime', 'migrate_speed', 'localtime', 'reboot', 'freeze', 'autostart']);

/** Config values as the API returns them: integers and booleans as JSON numbers, the rest as strings. */
export function typedConfig(config: VmConfig): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(config)) out[key] = NUMERIC_KEYS.has(key) && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  return out;
}
