// The Home Assistant OS disk: on the node, download the haos_ova-<version>.qcow2.xz release asset, verify it (the
// pinned checksum when the spec has one; xz's own integrity check always), decompress it, `qm disk import` it, then
// attach the imported volume as scsi0 and boot disk. The import's answer names the volume: PVE 8.3 and later print
// `unused0: successfully imported disk 'local-lvm:vm-400-disk-1'` (qemu-server commit 60d7d9c7), older releases
// `Successfully imported disk as 'unused0:local-lvm:vm-400-disk-1'`; both are read. An import whose attach did not
// happen (a crash in between) is attached on the next run, never imported a second time.
import { z } from 'zod';
import { JarvisError } from '../../lib/errors.ts';
import { buildScript, parseArgs, runCheck, runScript } from './script.ts';
import type { Step } from './types.ts';

const haosArgs = z.object({
  vmid: z.number().int().min(100),
  image: z.string().regex(/^https:\/\/[A-Za-z0-9._~:\/?#@!$&'()*+,;=%-]+\.qcow2\.xz$/, 'must be an https URL of a .qcow2.xz image'),
  storage: z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'must be a Proxmox storage id'),
  /** Pinned checksum of the .xz file (Home Assistant publishes none; the spec may pin one). */
  checksum: z
    .object({ algorithm: z.enum(['sha256', 'sha512']), value: z.string().regex(/^[0-9a-f]{64}([0-9a-f]{64})?$/, 'must be a lower-case hex digest') })
    .optional(),
  /** Drive options for scsi0 when the image becomes the boot disk, as the spec wants them (`cache=none,discard=on`). */
  driveOptions: z
    .string()
    .regex(/^[a-z0-9_]+=[A-Za-z0-9_.-]+(,[a-z0-9_]+=[A-Za-z0-9_.-]+)*$/, 'must be key=value pairs separated by commas')
    .refine((o) => !/(^|,)(file|size|volume)=/.test(o), 'must not set file, size or volume')
    .optional(),
});

/** The volume `qm disk import` says it imported, from either wording; undefined when it names none. */
export function parseImportedVolume(output: string): { slot: string; volume: string } | undefined {
  // A volume id is `<storage>:<volume name>` without spaces; anything else is not what qm names.
  const volume = "([a-z][a-z0-9_.-]*:[^',\\s]+)(?:,[^']*)?";
  const current = new RegExp(`^(\\w+\\d+): successfully imported disk '${volume}'\\s*$`, 'm').exec(output);
  if (current) return { slot: current[1]!, volume: current[2]! };
  const older = new RegExp(`Successfully imported disk as '(\\w+\\d+):${volume}'`).exec(output);
  if (older) return { slot: older[1]!, volume: older[2]! };
  return undefined;
}

/** What stays manual: HAOS onboarding creates the owner account in its web UI, and nothing may do that for the owner. */
export const HAOS_ONBOARDING_STEP =
  'MANUAL STEP (cannot be automated): once VM {vmid} runs, open http://<vm-address>:8123 and finish Home Assistant onboarding (owner account, location).';
/** When scsi0 already holds a disk, Jarvis does not replace it: the switch is the owner's call. */
export const HAOS_ATTACH_STEP =
  'MANUAL STEP: VM {vmid} already has a scsi0 disk, so the imported image was left as {volume}. In the Proxmox UI open VM {vmid} > Hardware, detach the current scsi0, attach the imported disk as scsi0 and set Options > Boot Order to scsi0.';

const HAOS_STATE = `
DIR="$R/var/lib/jarvis/haos"
MARK="$DIR/$VMID.imported"
IMPORTED="$DIR/$VMID.import-output"
FILE="$DIR/$(basename "$IMAGE")"
imported=false
[[ -f $MARK && $(head -n1 "$MARK") == "$IMAGE" ]] && imported=true
`;

const DONE = 'jarvis: image already imported and attached';

// Prints qm's answer. An answer kept from an earlier run means the disk is imported already: it is printed again.
const FETCH_AND_IMPORT = `${HAOS_STATE}
if $imported; then echo "${DONE}"; exit 0; fi
mkdir -p "$DIR"
if [[ -s $IMPORTED ]]; then cat "$IMPORTED"; exit 0; fi
if [[ ! -s $FILE ]]; then
  curl -fsSL --retry 3 -o "$FILE.part" "$IMAGE"
  mv "$FILE.part" "$FILE"
fi
if [[ -n $SUM ]]; then
  echo "$SUM  $FILE" | "\${ALGO}sum" -c --quiet - || { rm -f "$FILE"; echo "checksum mismatch ($ALGO): the download was removed" >&2; exit 3; }
fi
xz -t "$FILE" || { rm -f "$FILE"; echo "the archive is corrupt (xz integrity check failed): the download was removed" >&2; exit 3; }
qcow="\${FILE%.xz}"
xz -dc "$FILE" >"$qcow.part" && mv "$qcow.part" "$qcow"
answer=$(qm disk import "$VMID" "$qcow" "$STORAGE")
rm -f "$qcow"
printf '%s\\n' "$answer" >"$IMPORTED.part" && mv "$IMPORTED.part" "$IMPORTED"
printf '%s\\n' "$answer"
`;

// A fresh HAOS VM has no scsi0 yet: the image becomes its boot disk. An existing disk is never replaced.
const ATTACH = `${HAOS_STATE}
if qm config "$VMID" | grep -q '^scsi0:'; then
  printf '%s\\n' "$ATTACH"
else
  qm set "$VMID" --scsi0 "$VOLUME\${OPTS:+,$OPTS}" --boot order=scsi0
  echo "attached $VOLUME as scsi0 and made it the boot disk"
fi
printf '%s\\n%s\\n' "$IMAGE" "$VOLUME" >"$MARK"
rm -f "$IMPORTED"
printf '%s\\n' "$ONBOARDING"
`;

export const haosImage: Step = {
  id: 'haos.image',
  where: 'host',
  async check(shell, args) {
    const a = parseArgs('haos.image', haosArgs, args);
    return runCheck(shell, buildScript({ VMID: a.vmid, IMAGE: a.image }, `${HAOS_STATE}
$imported && echo "ok image imported for VM $VMID ($(sed -n 2p "$MARK"))" || echo "todo download, verify and import $(basename "$IMAGE") for VM $VMID"
`), `haos.image ${a.vmid}`);
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('haos.image', haosArgs, args);
    const fill = (text: string): string => text.replaceAll('{vmid}', String(a.vmid));
    const onOutput = ctx.onOutput ? { onOutput: ctx.onOutput } : {};
    const base = { VMID: a.vmid, IMAGE: a.image };
    const answer = await runScript(
      shell,
      buildScript({ ...base, STORAGE: a.storage, SUM: a.checksum?.value ?? '', ALGO: a.checksum?.algorithm ?? 'sha256' }, FETCH_AND_IMPORT),
      { what: `haos.image ${a.vmid}`, timeoutSec: 1800, ...onOutput },
    );
    if (answer.trim() === DONE) {
      ctx.onOutput?.(`image already imported for VM ${a.vmid}\n${fill(HAOS_ONBOARDING_STEP)}\n`);
      return;
    }
    const imported = parseImportedVolume(answer);
    if (!imported) {
      throw new JarvisError('step-failed', `haos.image ${a.vmid} on ${shell.host}: qm disk import did not name the imported volume: ${answer.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await runScript(
      shell,
      buildScript(
        { ...base, VOLUME: imported.volume, OPTS: a.driveOptions ?? '', ONBOARDING: fill(HAOS_ONBOARDING_STEP), ATTACH: fill(HAOS_ATTACH_STEP).replace('{volume}', imported.volume) },
        ATTACH,
      ),
      { what: `haos.image ${a.vmid} (attach)`, ...onOutput },
    );
  },
};
