// The compose file a stack on app-host starts with (stack.scaffold writes it once; the owner's from then on). The
// `jarvis` stack is Jarvis itself as a container (the Dockerfile at the repository's root): the alternative to the
// systemd service on edge-gateway, which stays the default, so it is written ready but not started. The other stacks
// are empty scaffolds, and their file says so.

export interface StackScaffold {
  root: string;
  name: string;
  description: string;
  ports: string[];
}

/** Jarvis in a container: read-only root file system, unprivileged, data and specs in the stack's appdata. */
function jarvisCompose(a: StackScaffold): string {
  const appdata = `${a.root}/appdata/${a.name}`;
  return [
    `# ${a.name}: Jarvis as a container, the alternative to the systemd service on edge-gateway (VM 100, the default).`,
    '# Written once by Jarvis; yours from then on. Never run both: two bots would answer every command. To switch:',
    '#   1. on edge-gateway: sudo systemctl disable --now jarvis; copy /etc/jarvis/jarvis.env and /etc/jarvis/specs/ here:',
    `#      ${appdata}/jarvis.env (mode 0600) and ${appdata}/specs/; copy /var/lib/jarvis/ to ${appdata}/data/ (chown -R 1000:1000)`,
    '#   2. here: build the image from a checkout of Jarvis (docker build -t jarvis:local .), then docker compose up -d',
    '# In the env file set JARVIS_SELF_VMID to this VM (app-host) and SSH_KEY_PATH to /data/id_ed25519 (copy the key there).',
    `name: ${a.name}`,
    'services:',
    '  jarvis:',
    '    image: jarvis:local',
    '    command: [bot]',
    '    restart: unless-stopped',
    '    read_only: true',
    '    user: "1000:1000"',
    '    cap_drop: [ALL]',
    '    security_opt: ["no-new-privileges:true"]',
    '    env_file: [./jarvis.env]',
    '    environment:',
    '      JARVIS_DATA_DIR: /data',
    '      JARVIS_SPECS_DIR: /specs',
    '    volumes:',
    `      - ${appdata}/data:/data`,
    `      - ${appdata}/specs:/specs:ro`,
    '    tmpfs: [/tmp]',
    '',
  ].join('\n');
}

/** A stack nobody filled yet: it says plainly that it runs nothing. */
function emptyScaffold(a: StackScaffold): string {
  const ports = a.ports.length ? ['#     ports:', ...a.ports.map((p) => `#       - "${p}"`)] : [];
  return [
    `# ${a.name}: ${a.description || 'stack'}`,
    '# EMPTY SCAFFOLD: no service runs until you add one below. Written once by Jarvis; it never overwrites this file.',
    `name: ${a.name}`,
    'services: {}',
    '# Example service, to adapt:',
    '#   app:',
    '#     image: <image>:<tag>',
    '#     restart: unless-stopped',
    `#     volumes: ["${a.root}/appdata/${a.name}:/config"]`,
    ...ports,
    '',
  ].join('\n');
}

export function stackCompose(a: StackScaffold): string {
  return a.name === 'jarvis' ? jarvisCompose(a) : emptyScaffold(a);
}
