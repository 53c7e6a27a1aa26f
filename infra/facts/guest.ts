// In-guest facts (Tailscale, Docker, /opt/naas, network mounts, Home Assistant) read with one probe script: one round
// trip over SSH or the guest agent. Each section is parsed on its own, so one odd answer does not hide the others.
import { z } from 'zod';
import { JarvisError } from '../../lib/errors.ts';
import type { GuestFacts } from '../../planner/state.ts';
import type { RemoteShell } from '../shell.ts';
import { viaBash } from '../ssh/command.ts';
import { sections } from './sections.ts';

/** The netplan file Jarvis keeps a guest's routes to the segments behind the router in (deploy/steps/network.ts). */
export const JARVIS_ROUTES_FILE = '/etc/netplan/60-jarvis-routes.yaml';

/** The `to via` pairs of Jarvis's routes file (it writes one `- to: X` / `via: Y` pair per route). */
export function parseRoutesFile(text: string): Array<{ to: string; via: string }> {
  const out: Array<{ to: string; via: string }> = [];
  let to: string | undefined;
  for (const line of text.split('\n')) {
    const t = /^\s*-\s*to:\s*(\S+)\s*$/.exec(line);
    if (t) to = t[1];
    const v = /^\s*via:\s*(\S+)\s*$/.exec(line);
    if (v && to !== undefined) {
      out.push({ to, via: v[1]! });
      to = undefined;
    }
  }
  return out;
}

const PROBE_PREAMBLE = 'set +e\nR="${JARVIS_ROOT:-}"\nexport LC_ALL=C\n';

const TAILSCALE_PROBE = `
pkg() { [[ $(dpkg-query -W -f='\${db:Status-Status}' "$1" 2>/dev/null) == installed ]] && echo installed || echo absent; }
echo '## tailscale-package'; pkg tailscale
if [[ $(pkg tailscale) == installed ]]; then
  echo '## tailscale-status'; tailscale status --json 2>/dev/null
  echo '## tailscale-prefs'; tailscale debug prefs 2>/dev/null
  echo '## tailscale-funnel'; tailscale funnel status --json 2>/dev/null
fi
`;

const statusSchema = z.object({
  BackendState: z.string(),
  Self: z.object({ HostName: z.string().optional() }).nullish(),
});
const prefsSchema = z.object({
  Hostname: z.string().optional(),
  AdvertiseRoutes: z.array(z.string()).nullish(),
  RouteAll: z.boolean().optional(),
});
// `tailscale funnel status --json` prints the serve config; Funnel is on when AllowFunnel has a true entry.
const funnelSchema = z.object({ AllowFunnel: z.record(z.string(), z.boolean()).optional() }).passthrough();

export interface TailscaleState {
  installed: boolean;
  joined: boolean;
  hostname?: string;
  advertisedRoutes: string[];
  acceptRoutes: boolean;
  funnel: boolean;
}

function parseJson<T>(host: string, what: string, text: string | undefined, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new JarvisError('facts-unreadable', `${host}: ${what} did not print JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new JarvisError('facts-unreadable', `${host}: ${what} printed unexpected JSON (${parsed.error.issues[0]?.message ?? ''})`);
  return parsed.data;
}

function parseTailscale(host: string, s: Map<string, string>): TailscaleState {
  const installed = s.get('tailscale-package')?.trim() === 'installed';
  if (!installed) return { installed, joined: false, advertisedRoutes: [], acceptRoutes: false, funnel: false };
  const status = parseJson(host, 'tailscale status --json', s.get('tailscale-status'), statusSchema);
  const prefs = parseJson(host, 'tailscale debug prefs', s.get('tailscale-prefs'), prefsSchema);
  const funnelText = s.get('tailscale-funnel')?.trim();
  const funnel = funnelText ? Object.values(parseJson(host, 'tailscale funnel status', funnelText, funnelSchema).AllowFunnel ?? {}).some(Boolean) : false;
  const hostname = status.Self?.HostName || prefs.Hostname;
  return {
    installed,
    joined: status.BackendState === 'Running',
    ...(hostname ? { hostname } : {}),
    advertisedRoutes: prefs.AdvertiseRoutes ?? [],
    acceptRoutes: prefs.RouteAll ?? false,
    funnel,
  };
}

async function probe(shell: RemoteShell, body: string): Promise<Map<string, string>> {
  let result;
  try {
    result = await shell.exec(viaBash(PROBE_PREAMBLE + body), { sudo: true, timeoutSec: 60 });
  } catch (error) {
    throw new JarvisError('facts-unreachable', `${shell.host}: cannot read in-guest facts: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (result.code !== 0) {
    throw new JarvisError('facts-unreadable', `${shell.host}: the facts probe exited ${result.code}: ${result.stderr.trim().split('\n').at(-1) ?? ''}`);
  }
  return sections(result.stdout);
}

/** Tailscale's state on the guest; used by the Tailscale steps' checks. */
export async function readTailscaleState(shell: RemoteShell): Promise<TailscaleState> {
  return parseTailscale(shell.host, await probe(shell, TAILSCALE_PROBE));
}

const GUEST_PROBE = (naasRoot: string) => `
NAAS=${JSON.stringify(naasRoot)}
echo '## os'; (. "$R/etc/os-release" 2>/dev/null; echo "\${ID:-unknown}")
${TAILSCALE_PROBE}
echo '## docker'; pkg docker-ce
echo '## compose'; pkg docker-compose-plugin
echo '## naas'
if [[ -d "$R$NAAS/stacks" && -d "$R$NAAS/appdata" && -d "$R$NAAS/logs" ]]; then
  echo present
  for d in "$R$NAAS"/stacks/*/; do [[ -d $d ]] && basename "$d"; done
else
  echo absent
fi
echo '## mounts'; findmnt -rn -o TARGET,SOURCE,FSTYPE -t virtiofs,nfs,nfs4 2>/dev/null
echo '## netcat'; pkg netcat-openbsd
echo '## jarvis-routes'; cat "$R${JARVIS_ROUTES_FILE}" 2>/dev/null
echo '## homeassistant'
if [[ $(. "$R/etc/os-release" 2>/dev/null; echo "\${ID:-}") == haos ]]; then
  systemctl is-active hassos-supervisor 2>/dev/null
fi
`;

/** Reads every in-guest fact the planner compares with the spec. Throws a JarvisError the scan records as `unknown`. */
export async function readGuestFacts(shell: RemoteShell, opts: { naasRoot?: string } = {}): Promise<GuestFacts> {
  const naasRoot = opts.naasRoot ?? '/opt/naas';
  if (!/^\/[A-Za-z0-9._\/-]*$/.test(naasRoot)) throw new JarvisError('facts-input', `naasRoot ${naasRoot} is not a plain absolute path`);
  const s = await probe(shell, GUEST_PROBE(naasRoot));
  const facts: GuestFacts = {};
  const os = s.get('os')?.trim();
  if (os !== 'haos') {
    const ts = parseTailscale(shell.host, s);
    facts.tailscale = {
      installed: ts.installed,
      joined: ts.joined,
      ...(ts.hostname ? { hostname: ts.hostname } : {}),
      advertisedRoutes: ts.advertisedRoutes,
      funnel: ts.funnel,
    };
    facts.docker = { installed: s.get('docker')?.trim() === 'installed', compose: s.get('compose')?.trim() === 'installed' };
    facts.netcat = s.get('netcat')?.trim() === 'installed';
    facts.jarvisRoutes = parseRoutesFile(s.get('jarvis-routes') ?? '');
  }
  const naas = (s.get('naas') ?? '').split('\n').filter(Boolean);
  facts.naasLayout = { present: naas[0] === 'present', stacks: naas[0] === 'present' ? naas.slice(1).sort() : [] };
  facts.mounts = (s.get('mounts') ?? '')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols): cols is [string, string, string] => cols.length === 3 && cols[0] !== '')
    .map(([target, source, fstype]) => ({ target: unescapeFindmnt(target), source: unescapeFindmnt(source), fstype }));
  if (os === 'haos') facts.homeAssistant = { running: s.get('homeassistant')?.trim() === 'active' };
  return facts;
}

/** findmnt -r escapes spaces and other odd characters as \xHH. */
function unescapeFindmnt(value: string): string {
  return value.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
