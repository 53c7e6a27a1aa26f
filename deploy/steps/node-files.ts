// Host steps that write files PVE reads but cannot receive through its API: the cloud-init vendor-data snippet of a
// VM (PVE has no upload for `snippets` content), and the node's apt sources switched to the no-subscription
// repository. Both are idempotent: the check compares the file contents with what is wanted.
import { z } from 'zod';
import { readAptFiles } from '../../infra/facts/apt.ts';
import { switchToNoSubscription } from '../../lib/apt-sources.ts';
import { absolutePath, buildScript, parseArgs, runCheck, runScript } from './script.ts';
import type { Step } from './types.ts';

const snippetArgs = z.object({
  path: absolutePath.refine((p) => /\/snippets\/[A-Za-z0-9._-]+\.yaml$/.test(p), 'must be a .yaml file in a storage\'s snippets/ directory'),
  content: z.string().max(16_384).startsWith('#cloud-config\n', 'must be cloud-config (start with #cloud-config)'),
});

export const cloudInitVendor: Step = {
  id: 'cloudinit.vendor',
  where: 'host',
  async check(shell, args) {
    const a = parseArgs('cloudinit.vendor', snippetArgs, args);
    return runCheck(shell, buildScript({ FILE: a.path, CONTENT: a.content }, `
[[ -f "$R$FILE" && $(cat "$R$FILE"; printf x) == "$CONTENT"x ]] && echo "ok $FILE holds the vendor data" || echo "todo write the vendor data to $FILE"
`), `cloudinit.vendor ${a.path}`);
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('cloudinit.vendor', snippetArgs, args);
    await runScript(shell, buildScript({ FILE: a.path, CONTENT: a.content }, `
install -d -m 0755 "$(dirname "$R$FILE")"
tmp=$(mktemp "$R$FILE.XXXXXX")
printf '%s' "$CONTENT" >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$R$FILE"
echo "wrote $FILE"
`), { what: `cloudinit.vendor ${a.path}`, ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};

const aptArgs = z.object({ suite: z.string().regex(/^[a-z]+$/, 'must be a Debian codename such as trixie') });

/** Where the files are kept as they were before Jarvis changed them (the rollback copies them back). */
export const APT_BACKUP_DIR = '/var/lib/jarvis/apt-sources.orig';

export const aptNoSubscription: Step = {
  id: 'apt.no-subscription',
  where: 'host',
  async check(shell, args) {
    const a = parseArgs('apt.no-subscription', aptArgs, args);
    const { files, machines } = await readAptFiles(shell);
    const changes = switchToNoSubscription(files, a.suite, machines);
    if (changes.length === 0) return { done: true, detail: 'no enterprise repository enabled; pve-no-subscription configured' };
    return { done: false, detail: `change ${changes.map((c) => c.path).join(', ')}` };
  },
  async apply(shell, args, ctx) {
    const a = parseArgs('apt.no-subscription', aptArgs, args);
    const { files, machines } = await readAptFiles(shell);
    const changes = switchToNoSubscription(files, a.suite, machines);
    if (changes.length === 0) return;
    // Originals are kept once (a rerun must not overwrite them with already-changed files), then replaced atomically.
    await runScript(shell, buildScript({ BACKUP: APT_BACKUP_DIR, PATHS: changes.map((c) => c.path), TEXTS: changes.map((c) => c.text) }, `
install -d -m 0700 "$R$BACKUP"
for i in "\${!PATHS[@]}"; do
  f=\${PATHS[$i]}
  if [[ -f "$R$f" && ! -e "$R$BACKUP/$(basename "$f")" ]]; then cp -a "$R$f" "$R$BACKUP/"; fi
  tmp=$(mktemp "$R$f.XXXXXX")
  printf '%s' "\${TEXTS[$i]}" >"$tmp"
  chmod 0644 "$tmp"
  mv "$tmp" "$R$f"
  echo "wrote $f"
done
echo "the originals are in $BACKUP"
`), { what: 'apt.no-subscription', ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}) });
  },
};
