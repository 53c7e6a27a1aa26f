// Who owns a firewall rule: the spec that wrote it, named in a tag at the end of the rule's comment
// (`admin LAN to SSH [jarvis:preprod-firewall]`). A spec's plans only ever change or delete rules it owns (or
// untagged ones, which it takes over when it wants the same rule); a rule another spec owns stays where it is, and
// when it is the very rule this spec wants, it counts as there. So the firewall wave and phase 2 never undo each other.

const TAG = /\s*\[jarvis:([A-Za-z0-9._-]+)\]$/;

/** The owner name of a spec: its metadata.name in the tag's characters. */
export const ownerName = (specName: string): string => specName.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 40) || 'spec';

/** The spec a rule's comment names as its owner; undefined for a rule no spec tagged (hand-made, or older). */
export function ownerOf(comment: string | undefined): string | undefined {
  return comment === undefined ? undefined : TAG.exec(comment)?.[1];
}

/** The comment without its owner tag (undefined when nothing else is left). */
export function withoutOwner(comment: string | undefined): string | undefined {
  if (comment === undefined) return undefined;
  const text = comment.replace(TAG, '');
  return text === '' ? undefined : text;
}

/** The comment with `owner`'s tag (replacing any other). */
export function withOwner(comment: string | undefined, owner: string): string {
  const text = withoutOwner(comment);
  return text === undefined ? `[jarvis:${owner}]` : `${text} [jarvis:${owner}]`;
}
