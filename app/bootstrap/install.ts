// Installing Jarvis on edge-gateway over SSH (pinned host key, the cloud-init user with sudo): the release unpacked in
// a root-only directory, the owner's environment file and specs beside it, install.sh run from it (it keeps an
// existing env file and specs), the files the env names, then the gateway's own SSH key authorized on the node.
// Every path is under $JARVIS_ROOT, like the provisioning scripts (empty on a real host).
import { JarvisError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import { buildScript } from '../../deploy/steps/script.ts';
import { viaBash } from '../../infra/ssh/command.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import type { GatewayEnv } from './gateway-env.ts';

const RELEASE_DIR = '/var/tmp/jarvis-release';

async function run(shell: RemoteShell, what: string, script: string, opts: { stdin?: Secret | string; onOutput?: (line: string) => void; timeoutSec?: number } = {}): Promise<string> {
  const result = await shell.exec(viaBash(script), {
    sudo: true,
    timeoutSec: opts.timeoutSec ?? 300,
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
  });
  if (result.code !== 0) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-6).join(' | ');
    throw new JarvisError('bootstrap-failed', `${what} on ${shell.host} failed (exit ${result.code}): ${tail}`);
  }
  return result.stdout;
}

export interface GatewayInstall {
  /** The env file was there already and was left as it is. */
  envKept: boolean;
  /** Jarvis's own public key on the gateway (/etc/jarvis/id_ed25519.pub). */
  publicKey: string;
  /** `systemctl is-active jarvis` said active. */
  active: boolean;
}

export async function installOnGateway(
  shell: RemoteShell,
  input: { release: Buffer; specs: Buffer; env: GatewayEnv; onOutput?: (line: string) => void },
): Promise<GatewayInstall> {
  const dir = { D: RELEASE_DIR };
  await run(shell, 'unpacking the release', buildScript(dir, 'rm -rf "$R$D"\ninstall -d -m 0700 "$R$D" "$R$D/owner" "$R$D/owner/specs"\nbase64 -d | tar -xzf - -C "$R$D"\n'), {
    stdin: input.release.toString('base64'),
  });
  await run(shell, 'copying your specs', buildScript(dir, 'base64 -d | tar -xzf - -C "$R$D/owner/specs"\n'), { stdin: input.specs.toString('base64') });
  await run(shell, 'copying the environment file', buildScript(dir, 'umask 077\ncat >"$R$D/owner/jarvis.env"\n'), { stdin: input.env.text });
  const out = await run(
    shell,
    'install.sh',
    buildScript(dir, 'ENV_FROM="$R$D/owner/jarvis.env" SPECS_FROM="$R$D/owner/specs" bash "$R$D/deploy/edge-gateway/install.sh"\nrm -rf "$R$D"\n'),
    { timeoutSec: 1800, ...(input.onOutput ? { onOutput: input.onOutput } : {}) },
  );
  for (const file of input.env.files) {
    await run(
      shell,
      `installing ${file.path}`,
      buildScript({ P: file.path }, 'if [ -e "$R$P" ]; then cat >/dev/null; exit 0; fi\ngid=$(getent group jarvis | cut -d: -f3)\numask 077\ncat >"$R$P.new"\ninstall -m 0640 -o 0 -g "$gid" "$R$P.new" "$R$P"\nrm -f "$R$P.new"\n'),
      { stdin: file.content },
    );
  }
  const publicKey = (await run(shell, 'reading Jarvis\'s public key', buildScript({}, 'cat "$R/etc/jarvis/id_ed25519.pub"\n'))).trim();
  const state = await shell.exec(viaBash(buildScript({}, 'systemctl is-active jarvis.service || true\n')), { sudo: true, timeoutSec: 30 });
  return { envKept: /kept \/etc\/jarvis\/jarvis\.env/.test(out), publicKey, active: state.stdout.trim() === 'active' };
}

/** Lets the gateway's key log in to the node as the SSH user, once (authorized_keys is appended to, never rewritten). */
export async function authorizeOnNode(shell: RemoteShell, user: string, publicKey: string): Promise<boolean> {
  const out = await run(
    shell,
    'authorizing Jarvis\'s key on the node',
    buildScript(
      { U: user, KEY: publicKey },
      'home=$(getent passwd "$U" | cut -d: -f6)\n[ -n "$home" ] || { echo "no user $U on the node" >&2; exit 3; }\ninstall -d -m 0700 "$R$home/.ssh"\nf="$R$home/.ssh/authorized_keys"\ntouch "$f"\nchmod 0600 "$f"\nif grep -qxF "$KEY" "$f"; then echo kept; else printf \'%s\\n\' "$KEY" >>"$f"; echo added; fi\n',
    ),
  );
  return out.trim() === 'added';
}
