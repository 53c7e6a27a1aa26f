// Jarvis as a container (the alternative to the systemd service on edge-gateway): the Dockerfile's stages, checked
// statically since no Docker engine runs here (what hadolint would flag, and that the build runs the repository's own
// commands), and the `jarvis` stack's compose file on app-host, which names the image, the volumes and the env file.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { stackCompose } from '../../deploy/steps/stack-compose.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');

/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .filter((l) => l.trim() && !l.trim().startsWith('#'))
  .map((l) => {
    const [op, ...rest] = l.trim().split(/\s+/);
    return { op: op!.toUpperCase(), args: rest.join(' ') };
  });

const stages = instructions.reduce<Array<Array<{ op: string; args: string }>>>((all, i) => (i.op === 'FROM' ? [...all, [i]] : (all[all.length - 1]!.push(i), all)), []);

describe('Dockerfile', () => {
  it('is multi-stage on a pinned Node 20 image, and the build stage runs the repository’s own install and build', () => {
    expect(stages.map((s) => s[0]!.args)).toEqual(['node:20-bookworm-slim AS build', 'node:20-bookworm-slim AS runtime']);
    const build = stages[0]!.map((i) => i.args).join('\n');
    const scripts = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toBeDefined();
    expect(build).toContain('npm ci --ignore-scripts');
    expect(build).toContain('npm run build');
    expect(build).toContain('npm prune --omit=dev');
    // The lock file comes before the sources, so a code change does not reinstall the dependencies.
    const copies = stages[0]!.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toEqual(['package.json package-lock.json ./', '. .']);
  });

  it('runs unprivileged with the data in a volume, as the unit runs `jarvis bot` (same Node flags)', () => {
    const runtime = stages[1]!;
    const userAt = runtime.findIndex((i) => i.op === 'USER');
    expect(runtime[userAt]?.args).toBe('node');
    expect(runtime.slice(userAt).some((i) => i.op === 'RUN')).toBe(false);
    expect(runtime.find((i) => i.op === 'VOLUME')?.args).toBe('["/data"]');
    const unit = readFileSync(`${ROOT}deploy/edge-gateway/jarvis.service`, 'utf8');
    expect(unit).toContain('ExecStart=/usr/bin/node --max-semi-space-size=2 /opt/jarvis/bin/jarvis.js bot');
    expect(runtime.find((i) => i.op === 'ENTRYPOINT')?.args).toBe('["node", "--max-semi-space-size=2", "/opt/jarvis/bin/jarvis.js"]');
    expect(runtime.find((i) => i.op === 'CMD')?.args).toBe('["bot"]');
  });

  it('passes the checks hadolint makes: no ADD, no latest tag, apt without recommends and with its lists removed', () => {
    expect(instructions.some((i) => i.op === 'ADD')).toBe(false);
    expect(instructions.filter((i) => i.op === 'FROM').every((i) => /:\S+/.test(i.args) && !/:latest\b/.test(i.args))).toBe(true);
    for (const run of instructions.filter((i) => i.op === 'RUN' && i.args.includes('apt-get install'))) {
      expect(run.args).toContain('--no-install-recommends');
      expect(run.args).toContain('rm -rf /var/lib/apt/lists/*');
    }
  });

  it('leaves this machine’s state, secrets and the tests out of the build context', () => {
    const ignored = readFileSync(`${ROOT}.dockerignore`, 'utf8').split('\n');
    for (const name of ['node_modules', '.env', 'data', '.git', 'test', 'dist']) expect(ignored).toContain(name);
  });
});

describe('stacks on app-host', () => {
  it('jarvis: a compose file that runs the image read-only, unprivileged, with its env file and volumes under appdata', () => {
    const compose = parse(stackCompose({ root: '/opt/naas', name: 'jarvis', description: 'Jarvis itself when run as a container', ports: [] })) as {
      name: string;
      services: { jarvis: Record<string, unknown> };
    };
    expect(compose.name).toBe('jarvis');
    expect(compose.services.jarvis).toMatchObject({
      image: 'jarvis:local',
      command: ['bot'],
      read_only: true,
      user: '1000:1000',
      cap_drop: ['ALL'],
      env_file: ['./jarvis.env'],
      environment: { JARVIS_DATA_DIR: '/data', JARVIS_SPECS_DIR: '/specs' },
      volumes: ['/opt/naas/appdata/jarvis/data:/data', '/opt/naas/appdata/jarvis/specs:/specs:ro'],
      tmpfs: ['/tmp'],
    });
    expect(dockerfile).toContain('docker build -t jarvis:local .');
  });

  it('the other stacks say plainly that they are empty scaffolds and run nothing', () => {
    const text = stackCompose({ root: '/opt/naas', name: 'plex', description: 'Plex Media Server', ports: ['32400:32400'] });
    expect(text).toContain('EMPTY SCAFFOLD: no service runs until you add one below');
    expect(parse(text)).toEqual({ name: 'plex', services: {} });
  });
});
