// Configuration: the environment must load (lib/config.ts). Each variable group is also loaded on its own, so one
// run names every problem rather than the first one.
import { loadConfig, type JarvisConfig } from '../../lib/config.ts';
import { JarvisError } from '../../lib/errors.ts';
import { fail, pass, type CheckResult } from './result.ts';

const GROUPS = ['PROXMOX_', 'SSH_', 'TAILSCALE_', 'DISCORD_', 'SLACK_', 'JARVIS_'] as const;

function problemOf(env: NodeJS.ProcessEnv): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (error) {
    if (error instanceof JarvisError) return error.message.replace(/^invalid configuration: /, '');
    throw error;
  }
}

/** Splits the combined zod message (`A: why; B: why`) into one problem per variable. */
function splitProblems(message: string): string[] {
  return message.split(/; (?=[A-Z][A-Z0-9_]*(?:_FILE)?: )/);
}

function describe(config: JarvisConfig): string {
  const ssh = Object.keys(config.ssh.hosts).length;
  const parts = [
    config.proxmox ? `Proxmox ${config.proxmox.url}` : 'no Proxmox',
    `${ssh} SSH host${ssh === 1 ? '' : 's'}`,
    config.tailscale.oauth ? 'Tailscale OAuth client' : config.tailscale.apiKey ? 'Tailscale API key' : 'no Tailscale',
    config.discord ? 'Discord' : 'no Discord',
    config.slack ? (config.slack.appToken ? 'Slack (Socket Mode)' : 'Slack (HTTP mode)') : 'no Slack',
  ];
  return parts.join(', ');
}

export function checkConfiguration(env: NodeJS.ProcessEnv): { result: CheckResult; config?: JarvisConfig } {
  const problems: string[] = [];
  for (const prefix of GROUPS) {
    const group = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith(prefix)));
    const problem = problemOf(group);
    if (problem) problems.push(...splitProblems(problem));
  }
  if (problems.length === 0) {
    try {
      const config = loadConfig(env);
      if (!config.proxmox) {
        return {
          result: fail('config', 'configuration: no Proxmox node configured', 'set PROXMOX_URL, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET (or _FILE) and PROXMOX_FINGERPRINT; see .env.example'),
          config,
        };
      }
      return { result: pass('config', `configuration: valid (${describe(config)})`), config };
    } catch (error) {
      if (!(error instanceof JarvisError)) throw error;
      problems.push(error.message);
    }
  }
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  return {
    result: fail('config', `configuration: ${count}: ${problems.join('; ')}`, 'correct the variables named above in the environment file (see .env.example); the other checks need a valid configuration'),
  };
}
