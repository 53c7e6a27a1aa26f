// Guest steps for app-host: Docker Engine + Compose plugin from Docker's apt repository, the /opt/naas layout with
// owners and modes, and one compose project per stack (stack-compose.ts: Jarvis's own, or an empty scaffold the owner
// fills), never overwritten.
import { z } from 'zod';
import { OS_RELEASE, PKG_INSTALLED, REQUIRE_APT } from './os.ts';
import { absolutePath, buildScript, parseArgs, plainName, runCheck, runScript } from './script.ts';
import { stackCompose } from './stack-compose.ts';
import type { Step } from './types.ts';

const dockerArgs = z.object({ compose: z.boolean().default(true) });

const DOCKER_STATE = `${OS_RELEASE}${PKG_INSTALLED}
missing=()
for p in docker-ce docker-ce-cli containerd.io; do pkg_installed "$p" || missing+=("$p"); done
if $COMPOSE; then pkg_installed docker-compose-plugin || missing+=(docker-compose-plugin); fi
running=false
pkg_installed docker-ce && systemctl is-enabled --quiet docker && systemctl is-active --quiet docker && running=true
`;

export const dockerInstall: Step = {
  id: 'docker.install',
  where: 'guest',
  async check(shell, args) {
    const a = parseArgs('docker.install', dockerArgs, args);
    return runCheck(shell, buildScript({ COMPOSE: a.compose }, `${DOCKER_STATE}
((\${#missing[@]})) && echo "todo install \${missing[*]}" || echo "ok docker packages installed"
$running && echo "ok docker enabled and running" || echo "todo enable docker"
`), 'docker.install');
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('docker.install', dockerArgs, args);
    const script = buildScript({ COMPOSE: a.compose }, `${DOCKER_STATE}
if ((\${#missing[@]})); then
${REQUIRE_APT('installing Docker')}
  install -m 0755 -d "$R/etc/apt/keyrings" "$R/etc/apt/sources.list.d"
  if [[ ! -s "$R/etc/apt/keyrings/docker.asc" ]]; then
    curl -fsSL "https://download.docker.com/linux/$OS_ID/gpg" -o "$R/etc/apt/keyrings/docker.asc"
    chmod a+r "$R/etc/apt/keyrings/docker.asc"
  fi
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  echo "deb [arch=$arch signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/$OS_ID $CODENAME stable" >"$R/etc/apt/sources.list.d/docker.list"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "\${missing[@]}"
fi
if ! $running; then systemctl enable --now docker; fi
`);
    await runScript(shell, script, { what: 'docker.install', timeoutSec: 900, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};

const account = z.string().regex(/^([a-z_][a-z0-9_-]*|\d+)$/, 'must be a user or group name, or a numeric id');
const layoutArgs = z.object({
  root: absolutePath.default('/opt/naas'),
  owner: account.default('root'),
  group: account.default('root'),
  stacks: z.array(plainName).default([]),
});

// Directories and modes: the root and stacks are readable by the owner's group; appdata and logs only by the owner.
const LAYOUT_DIRS = `
dirs=("$ROOT:0755" "$ROOT/stacks:0750" "$ROOT/appdata:0750" "$ROOT/logs:0750")
for s in "\${STACKS[@]}"; do dirs+=("$ROOT/stacks/$s:0750" "$ROOT/appdata/$s:0750" "$ROOT/logs/$s:0750"); done
uid=$(getent passwd "$OWNER" | cut -d: -f3 || true)
gid=$(getent group "$GROUP" | cut -d: -f3 || true)
[[ -n $uid || $OWNER =~ ^[0-9]+$ ]] || { echo "user $OWNER does not exist on this host; create it first" >&2; exit 3; }
[[ -n $gid || $GROUP =~ ^[0-9]+$ ]] || { echo "group $GROUP does not exist on this host (docker.install creates group docker)" >&2; exit 3; }
uid=\${uid:-$OWNER} gid=\${gid:-$GROUP}
wrong=()
for entry in "\${dirs[@]}"; do
  d=\${entry%:*} mode=\${entry##*:}
  if [[ ! -d "$R$d" ]] || [[ $(stat -L -c '%u:%g %a' "$R$d") != "$uid:$gid \${mode#0}" ]]; then wrong+=("$entry"); fi
done
`;

export const naasLayout: Step = {
  id: 'naas.layout',
  where: 'guest',
  async check(shell, args) {
    const a = parseArgs('naas.layout', layoutArgs, args);
    return runCheck(shell, buildScript({ ROOT: a.root, OWNER: a.owner, GROUP: a.group, STACKS: a.stacks }, `${LAYOUT_DIRS}
for entry in "\${wrong[@]}"; do echo "todo directory \${entry%:*} owned by $OWNER:$GROUP mode \${entry##*:}"; done
echo "ok layout under $ROOT"
`), 'naas.layout');
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('naas.layout', layoutArgs, args);
    await runScript(shell, buildScript({ ROOT: a.root, OWNER: a.owner, GROUP: a.group, STACKS: a.stacks }, `${LAYOUT_DIRS}
for entry in "\${wrong[@]}"; do
  install -d -o "$uid" -g "$gid" -m "\${entry##*:}" "$R\${entry%:*}"
  echo "made \${entry%:*} ($OWNER:$GROUP \${entry##*:})"
done
`), { what: 'naas.layout', ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};

const scaffoldArgs = z.object({
  root: absolutePath.default('/opt/naas'),
  name: plainName,
  description: z.string().max(500).regex(/^[^\n\r]*$/, 'must be one line').default(''),
  ports: z
    .array(z.string().regex(/^(\[?[0-9a-fA-F.:]+\]?:)?(\d{1,5}(-\d{1,5})?:)?\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/, 'must be a Docker port like 8080:80, 127.0.0.1:3000:3000 or 53/udp'))
    .default([]),
});

export const stackScaffold: Step = {
  id: 'stack.scaffold',
  where: 'guest',
  async check(shell, args) {
    const a = parseArgs('stack.scaffold', scaffoldArgs, args);
    return runCheck(shell, buildScript({ FILE: `${a.root}/stacks/${a.name}/compose.yaml` }, `
[[ -e "$R$FILE" ]] && echo "ok $FILE exists" || echo "todo write a placeholder $FILE"
`), `stack.scaffold ${a.name}`);
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('stack.scaffold', scaffoldArgs, args);
    const dir = `${a.root}/stacks/${a.name}`;
    await runScript(shell, buildScript({ DIR: dir, FILE: `${dir}/compose.yaml`, CONTENT: stackCompose(a) }, `
if [[ -e "$R$FILE" ]]; then echo "$FILE exists; left as it is"; exit 0; fi
[[ -d "$R$DIR" ]] || { echo "$DIR is missing (naas.layout comes first)" >&2; exit 3; }
# noclobber: even if the file appeared meanwhile, an existing compose file is never overwritten.
set -o noclobber
printf '%s' "$CONTENT" >"$R$FILE"
chown --reference="$R$DIR" "$R$FILE"
chmod 0640 "$R$FILE"
echo "wrote $FILE"
`), { what: `stack.scaffold ${a.name}`, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};
