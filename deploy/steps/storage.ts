// Storage steps: a virtiofs share mounted in a guest, and data migrations from a guest directory onto a host dataset
// (copy while running, stop the stacks, final copy, checksum verification, switch-over, start; rollback = switch
// back).
import { z } from 'zod';
import { JarvisError } from '../../lib/errors.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import { guestExecViaHost } from './guest-exec.ts';
import { absolutePath, buildScript, checkResult, datasetName, parseArgs, plainName, runCheck, runScript } from './script.ts';
import type { Step, StepCheck, StepContext } from './types.ts';

const tag = z.string().regex(/^[A-Za-z0-9_.-]{1,36}$/, 'must be a virtiofs tag (letters, digits, ._-; at most 36)');

const mountArgs = z.object({ tag, mountpoint: absolutePath });

const MOUNT_STATE = `
FSTAB="$R/etc/fstab"
LINE="$TAG $MP virtiofs defaults,nofail 0 0"
entry=$(awk -v t="$MP" '$1 !~ /^#/ && $2 == t' "$FSTAB" 2>/dev/null || true)
mounted=$(findmnt -rn -o TARGET,SOURCE,FSTYPE "$MP" 2>/dev/null || true)
`;

export const virtiofsMount: Step = {
  id: 'virtiofs.mount',
  where: 'guest',
  async check(shell, args) {
    const a = parseArgs('virtiofs.mount', mountArgs, args);
    return runCheck(shell, buildScript({ TAG: a.tag, MP: a.mountpoint }, `${MOUNT_STATE}
[[ -n $entry ]] && echo "ok /etc/fstab mounts $MP" || echo "todo add $MP to /etc/fstab"
[[ $mounted == "$MP $TAG virtiofs" ]] && echo "ok $TAG mounted at $MP" || echo "todo mount $TAG at $MP"
`), `virtiofs.mount ${a.mountpoint}`);
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('virtiofs.mount', mountArgs, args);
    await runScript(shell, buildScript({ TAG: a.tag, MP: a.mountpoint }, `${MOUNT_STATE}
if [[ -n $entry && $entry != "$LINE" ]]; then
  echo "/etc/fstab already has another entry for $MP: $entry — fix it by hand; Jarvis does not replace it" >&2; exit 3
fi
if [[ -n $mounted && $mounted != "$MP $TAG virtiofs" ]]; then
  echo "$MP is already a mount of something else ($mounted)" >&2; exit 3
fi
mkdir -p "$R$MP"
if [[ -z $mounted ]] && [[ -n $(ls -A "$R$MP") ]]; then
  echo "$MP is not empty: mounting over it would hide its files; move them with a migration instead" >&2; exit 3
fi
if [[ -z $entry ]]; then printf '%s\\n' "$LINE" >>"$FSTAB"; echo "added $MP to /etc/fstab"; fi
if [[ -z $mounted ]]; then mount "$MP"; echo "mounted $TAG at $MP"; fi
`), { what: `virtiofs.mount ${a.mountpoint}`, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};

const migrationArgs = z.object({
  id: plainName,
  kind: z.enum(['plex-media', 'docker-appdata', 'backup-target']),
  vmid: z.number().int().min(100).optional(),
  from: z.string().min(1),
  to: z.string().min(1),
  mountpoint: absolutePath.optional(),
  stacks: z.array(plainName).default([]),
  /** virtiofs tag of the host dataset (the directory mapping id); defaults to the migration id. */
  tag: tag.optional(),
  sizeGiB: z.number().positive().optional(),
});
type MigrationArgs = z.infer<typeof migrationArgs>;

// The guest side of a data migration. FROM moves onto the share of dataset TO, seen in the guest at MP:
// - MP differs from FROM (media): the share is mounted at MP (fstab entry added); FROM becomes a symlink to MP.
// - MP equals FROM (appdata): the share is mounted at a staging point for the copy, then at FROM itself.
// The original stays as FROM.pre-jarvis-ID until the owner deletes it; rollback moves it back.
const MIGRATION_GUEST = `
MARK="$R/var/lib/jarvis/migrations/$ID.done"
OLD="$FROM.pre-jarvis-$ID"
same=false; [[ $FROM == "$MP" ]] && same=true
if $same; then DEST="/mnt/jarvis-migrate-$ID"; else DEST=$MP; fi
switched() {
  if $same; then [[ $(findmnt -rn -o TARGET,SOURCE,FSTYPE "$FROM" 2>/dev/null) == "$FROM $TAG virtiofs" ]]
  else [[ -L "$R$FROM" && $(readlink "$R$FROM") == "$MP" ]]; fi
}
stopped=()
stop_stacks() {
  for s in "\${STACKS[@]}"; do
    if [[ -n $(docker compose -p "$s" ps -q 2>/dev/null) ]]; then docker compose -p "$s" stop; stopped+=("$s"); fi
  done
}
start_stacks() { for s in "\${stopped[@]}"; do docker compose -p "$s" start; done; stopped=(); }
add_fstab() {
  awk -v t="$1" '$1 !~ /^#/ && $2 == t { f = 1 } END { exit !f }' "$R/etc/fstab" 2>/dev/null ||
    printf '%s %s virtiofs defaults,nofail 0 0\\n' "$TAG" "$1" >>"$R/etc/fstab"
}
manifest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum | sort); }

case $MODE in
check)
  if [[ -f $MARK ]] && switched; then echo "ok $FROM lives on $TO (switched over)"; else echo "todo move $FROM onto $TO"; fi
  ;;
apply)
  if [[ -f $MARK ]] && switched; then echo "$FROM already on $TO"; exit 0; fi
  if $same; then
    mkdir -p "$R$DEST"
    [[ -n $(findmnt -rn "$DEST" 2>/dev/null) ]] || mount -t virtiofs "$TAG" "$DEST"
  elif [[ -z $(findmnt -rn "$MP" 2>/dev/null) ]]; then
    mkdir -p "$R$MP"
    [[ -z $(ls -A "$R$MP") ]] || { echo "$MP is not empty: mounting the share there would hide its files" >&2; exit 3; }
    add_fstab "$MP"
    mount "$MP"
  fi
  mkdir -p "$R$FROM"
  echo "copying $FROM to $TO while the stacks still run"
  cp -a "$R$FROM/." "$R$DEST/"
  trap 'echo "migration failed; restarting the stopped stacks, nothing was switched" >&2; start_stacks' ERR
  stop_stacks
  echo "stopped: \${stopped[*]:-none}; final copy and checksum verification"
  cp -a "$R$FROM/." "$R$DEST/"
  src=$(mktemp) dst=$(mktemp)
  manifest "$R$FROM" >"$src"
  manifest "$R$DEST" >"$dst"
  missing=$(comm -23 "$src" "$dst" | wc -l)
  rm -f "$src" "$dst"
  if ((missing > 0)); then echo "$missing file(s) differ after the copy" >&2; false; fi
  echo "verified $(find "$R$FROM" -type f | wc -l) file(s); switching over"
  mv "$R$FROM" "$R$OLD"
  if $same; then
    umount "$DEST"
    mkdir -p "$R$FROM"
    add_fstab "$FROM"
    mount "$FROM"
  else
    ln -s "$MP" "$R$FROM"
  fi
  mkdir -p "$(dirname "$MARK")"
  date -u +%FT%TZ >"$MARK"
  trap - ERR
  start_stacks
  echo "switched over; the original stays at $OLD until you delete it"
  ;;
rollback)
  [[ -d "$R$OLD" ]] || { echo "nothing to roll back: $OLD does not exist" >&2; exit 3; }
  for s in "\${STACKS[@]}"; do stopped+=("$s"); done
  for s in "\${STACKS[@]}"; do docker compose -p "$s" stop; done
  if $same; then
    umount "$FROM"
    awk -v t="$FROM" '!($1 !~ /^#/ && $2 == t)' "$R/etc/fstab" >"$R/etc/fstab.new" && mv "$R/etc/fstab.new" "$R/etc/fstab"
    rmdir "$R$FROM"
  else
    rm "$R$FROM"
  fi
  mv "$R$OLD" "$R$FROM"
  rm -f "$MARK"
  start_stacks
  echo "switched back to the original $FROM; data written on $TO since the switch-over was not copied back"
  ;;
esac
`;

function guestMigrationScript(a: MigrationArgs, mode: 'check' | 'apply' | 'rollback'): string {
  return buildScript(
    {
      MODE: mode,
      ID: a.id,
      FROM: a.from,
      TO: a.to,
      MP: a.mountpoint ?? '',
      TAG: a.tag ?? a.id,
      STACKS: a.stacks,
    },
    MIGRATION_GUEST,
  );
}

function parseMigration(args: unknown): MigrationArgs & { vmid: number; mountpoint: string } {
  const a = parseArgs('migration.data', migrationArgs, args);
  if (a.kind === 'backup-target') return a as MigrationArgs & { vmid: number; mountpoint: string };
  const dataArgs = z.object({ from: absolutePath, to: datasetName, vmid: z.number(), mountpoint: absolutePath });
  parseArgs('migration.data', dataArgs, a);
  return a as MigrationArgs & { vmid: number; mountpoint: string };
}

// Copy time: 1 GiB a minute is a conservative floor for HDD mirror writes through virtiofs.
const copyTimeoutSec = (a: MigrationArgs): number => Math.max(900, Math.ceil((a.sizeGiB ?? 0) * 2 * 60));

async function datasetExists(shell: RemoteShell, dataset: string): Promise<boolean> {
  const out = await runScript(shell, buildScript({ DS: dataset }, 'zfs list -H -o name "$DS" >/dev/null 2>&1 && echo yes || echo no'), {
    what: `migration.data: look up ${dataset}`,
    timeoutSec: 60,
  });
  return out.trim() === 'yes';
}

const BACKUP_TARGET_DETAIL =
  'the backup target moves with the backup job update (Proxmox API); archives already on the old storage stay there and are pruned by hand';

export const migrationData: Step = {
  id: 'migration.data',
  where: 'host',
  async check(shell, args): Promise<StepCheck> {
    const a = parseMigration(args);
    if (a.kind === 'backup-target') return { done: true, detail: BACKUP_TARGET_DETAIL };
    if (!(await datasetExists(shell, a.to))) return { done: false, detail: `dataset ${a.to} does not exist yet` };
    const out = await guestExecViaHost(shell, a.vmid, guestMigrationScript(a, 'check'), { what: `migration.data ${a.id} (check)`, timeoutSec: 120 });
    return checkResult(out);
  },
  async apply(shell, args, ctx) {
    const a = parseMigration(args);
    if (a.kind === 'backup-target') {
      ctx.onOutput?.(`${BACKUP_TARGET_DETAIL}\n`);
      return;
    }
    if (!(await datasetExists(shell, a.to))) {
      throw new JarvisError('step-precondition', `migration.data ${a.id} on ${shell.host}: dataset ${a.to} does not exist (zfs.dataset comes first)`);
    }
    await guestExecViaHost(shell, a.vmid, guestMigrationScript(a, 'apply'), {
      what: `migration.data ${a.id}`,
      timeoutSec: copyTimeoutSec(a),
      ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
    });
  },
};

/** Switches a migration back to the original directory (the plan's rollback for migration.data). */
export async function rollbackMigration(shell: RemoteShell, args: Record<string, unknown>, ctx: Pick<StepContext, 'onOutput'> = {}): Promise<void> {
  const a = parseMigration(args);
  if (a.kind === 'backup-target') return;
  await guestExecViaHost(shell, a.vmid, guestMigrationScript(a, 'rollback'), {
    what: `migration.data ${a.id} (rollback)`,
    timeoutSec: 600,
    ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
  });
}
