// Host steps for ZFS: a dataset with its properties, and a daily snapshot policy run by sanoid (Debian package
// `sanoid`, whose sanoid.timer takes and prunes the snapshots) rather than a home-made cron job.
import { z } from 'zod';
import { renderSanoidSection, sanoidMarkers } from '../../infra/facts/sanoid-conf.ts';
import { buildScript, datasetName, parseArgs, runCheck, runScript } from './script.ts';
import type { Step } from './types.ts';

const propertyValue = z.string().regex(/^[A-Za-z0-9_.:\/+@-]+$/, 'must be a plain ZFS property value');
const datasetArgs = z.object({
  name: datasetName,
  properties: z.record(z.string().regex(/^[a-z][a-z0-9_:.]*$/, 'must be a ZFS property name'), propertyValue).default({}),
});

const datasetVars = (a: z.infer<typeof datasetArgs>) => ({
  NAME: a.name,
  PROPS: Object.entries(a.properties).map(([k, v]) => `${k}=${v}`),
});

// Compares each wanted property with what zfs reports (local or inherited: either way it is already so).
const DATASET_DIFF = `
exists=false
zfs list -H -o name "$NAME" >/dev/null 2>&1 && exists=true
wrong=()
if $exists; then
  for kv in "\${PROPS[@]}"; do
    have=$(zfs get -H -o value "\${kv%%=*}" "$NAME")
    [[ $have == "\${kv#*=}" ]] || wrong+=("$kv")
  done
fi
`;

export const zfsDataset: Step = {
  id: 'zfs.dataset',
  where: 'host',
  async check(shell, args) {
    const a = parseArgs('zfs.dataset', datasetArgs, args);
    const script = buildScript(datasetVars(a), `${DATASET_DIFF}
if ! $exists; then echo "todo create dataset $NAME"; exit 0; fi
echo "ok dataset $NAME exists"
for kv in "\${wrong[@]}"; do echo "todo set $kv (now $(zfs get -H -o value "\${kv%%=*}" "$NAME"))"; done
`);
    return runCheck(shell, script, `zfs.dataset ${a.name}`);
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('zfs.dataset', datasetArgs, args);
    const script = buildScript(datasetVars(a), `${DATASET_DIFF}
if ! $exists; then
  opts=()
  for kv in "\${PROPS[@]}"; do opts+=(-o "$kv"); done
  zfs create "\${opts[@]}" "$NAME"
  echo "created $NAME"
elif ((\${#wrong[@]})); then
  zfs set "\${wrong[@]}" "$NAME"
  echo "set \${wrong[*]} on $NAME"
else
  echo "$NAME already as wanted"
fi
`);
    await runScript(shell, script, { what: `zfs.dataset ${a.name}`, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};

const retentionKey = z.enum(['keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly']);
const policyArgs = z.object({
  dataset: datasetName,
  frequency: z.enum(['hourly', 'daily']),
  retention: z.partialRecord(retentionKey, z.number().int().min(0).max(10_000)),
});

const policyVars = (a: z.infer<typeof policyArgs>) => {
  const markers = sanoidMarkers(a.dataset);
  return {
    SECTION: renderSanoidSection({ dataset: a.dataset, frequency: a.frequency, retention: a.retention }),
    BEGIN: markers.begin,
    END: markers.end,
  };
};

// Extracts Jarvis's block for this dataset from sanoid.conf (empty if absent).
const POLICY_STATE = `
CONF="$R/etc/sanoid/sanoid.conf"
installed=false
[[ $(dpkg-query -W -f='\${db:Status-Status}' sanoid 2>/dev/null) == installed ]] && installed=true
current=$(awk -v b="$BEGIN" -v e="$END" '$0 == b { on = 1 } on { print } $0 == e { on = 0 }' "$CONF" 2>/dev/null || true)
enabled=false active=false
$installed && systemctl is-enabled --quiet sanoid.timer && enabled=true
$installed && systemctl is-active --quiet sanoid.timer && active=true
`;

export const zfsSnapshotPolicy: Step = {
  id: 'zfs.snapshot.policy',
  where: 'host',
  async check(shell, args) {
    const a = parseArgs('zfs.snapshot.policy', policyArgs, args);
    const script = buildScript(policyVars(a), `${POLICY_STATE}
$installed && echo "ok sanoid installed" || echo "todo install sanoid"
[[ $current == "$SECTION" ]] && echo "ok sanoid.conf has the policy of $DATASET_LABEL" || echo "todo write the $DATASET_LABEL section of /etc/sanoid/sanoid.conf"
$enabled && $active && echo "ok sanoid.timer enabled and active" || echo "todo enable sanoid.timer"
`.replaceAll('$DATASET_LABEL', a.dataset));
    return runCheck(shell, script, `zfs.snapshot.policy ${a.dataset}`);
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('zfs.snapshot.policy', policyArgs, args);
    const script = buildScript(policyVars(a), `${POLICY_STATE}
if ! $installed; then
  # A failed update is the node's package sources, not sanoid: say so with apt's own last words.
  if ! out=$(apt-get update -q 2>&1); then
    printf '%s\n' "$out" | grep -E '^(E|W|Err):' | tail -n 4 >&2
    echo "apt-get update failed on the node: its package sources do not answer (an unsubscribed node must use the pve-no-subscription repository; jarvis doctor checks it), so sanoid cannot be installed" >&2
    exit 3
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q sanoid
fi
if [[ $current != "$SECTION" ]]; then
  mkdir -p "$R/etc/sanoid"
  touch "$CONF"
  tmp=$(mktemp "$CONF.XXXXXX")
  # Keep everything except our old block, then append the new one; mv makes the switch atomic.
  awk -v b="$BEGIN" -v e="$END" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' "$CONF" >"$tmp"
  printf '%s\\n' "$SECTION" >>"$tmp"
  chmod 0644 "$tmp"
  mv "$tmp" "$CONF"
  echo "wrote the policy section to /etc/sanoid/sanoid.conf"
fi
if ! { $enabled && $active; }; then
  systemctl enable --now sanoid.timer
  echo "enabled sanoid.timer"
fi
`);
    await runScript(shell, script, { what: `zfs.snapshot.policy ${a.dataset}`, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};
