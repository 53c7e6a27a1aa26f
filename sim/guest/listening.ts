// What listens on a guest's network, read from its sandbox: sshd on Debian once its unit runs (openssh-server is
// in the cloud image, ssh.service enabled); Home Assistant on 8123 (and the Supervisor's observer on 4357) while the
// Supervisor runs on HAOS, Mosquitto on 1883 once its add-on is installed; and the ports published by the running
// Docker Compose projects of the /opt/naas layout (`services.*.ports`; a port bound to 127.0.0.1 is not reachable).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sandboxOs } from './system.ts';

export interface Listener {
  proto: 'tcp' | 'udp';
  port: number;
}

const active = (root: string, unit: string): boolean => existsSync(join(root, '.shim', 'state', 'systemd', `${unit}.active`));

/** Compose `ports:` entries: "32400:32400", "8080:80/tcp", "0.0.0.0:3000:3000", { published, protocol, host_ip }. */
function publishedPorts(entry: unknown): Listener[] {
  if (typeof entry === 'number') return [{ proto: 'tcp', port: entry }];
  if (typeof entry === 'string') {
    const [spec, protocol] = entry.split('/');
    const parts = (spec ?? '').split(':');
    if (parts.length < 2) return [];
    if (parts.length === 3 && parts[0]!.startsWith('127.')) return [];
    const port = Number(parts[parts.length - 2]);
    return Number.isInteger(port) ? [{ proto: protocol === 'udp' ? 'udp' : 'tcp', port }] : [];
  }
  if (entry && typeof entry === 'object') {
    const long = entry as { published?: unknown; protocol?: unknown; host_ip?: unknown };
    if (typeof long.host_ip === 'string' && long.host_ip.startsWith('127.')) return [];
    const port = Number(long.published);
    return Number.isInteger(port) ? [{ proto: long.protocol === 'udp' ? 'udp' : 'tcp', port }] : [];
  }
  return [];
}

function composePorts(root: string, project: string): Listener[] {
  for (const name of ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']) {
    const file = join(root, 'opt', 'naas', 'stacks', project, name);
    if (!existsSync(file)) continue;
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch {
      return [];
    }
    const services = (doc as { services?: Record<string, { ports?: unknown[] }> } | null)?.services ?? {};
    return Object.values(services ?? {}).flatMap((service) => (Array.isArray(service?.ports) ? service.ports.flatMap(publishedPorts) : []));
  }
  return [];
}

export function listening(root: string): Listener[] {
  const os = sandboxOs(root);
  const out: Listener[] = [];
  if (os === 'debian-13' && active(root, 'ssh')) out.push({ proto: 'tcp', port: 22 });
  if (os === 'haos' && active(root, 'hassos-supervisor')) {
    out.push({ proto: 'tcp', port: 8123 }, { proto: 'tcp', port: 4357 });
    if (existsSync(join(root, '.shim', 'state', 'addons', 'core_mosquitto'))) out.push({ proto: 'tcp', port: 1883 });
  }
  const projects = join(root, '.shim', 'state', 'docker', 'projects');
  if (active(root, 'docker') && existsSync(projects)) for (const project of readdirSync(projects)) out.push(...composePorts(root, project));
  return out;
}
