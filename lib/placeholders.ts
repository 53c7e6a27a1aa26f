// Values that are never the owner's own: the examples .env.example ships and anything still saying REPLACE. Doctor
// names them and bootstrap refuses to install an environment file that holds one.

/** The approver ids of .env.example: examples, no real Discord or Slack user. */
export const EXAMPLE_APPROVERS: readonly string[] = ['discord:123456789012345678', 'slack:U0123ABCD'];

export interface Placeholder {
  variable: string;
  fix: string;
}

export function envPlaceholders(env: Record<string, string | undefined>): Placeholder[] {
  const found: Placeholder[] = [];
  const approvers = (env.JARVIS_APPROVERS ?? '').split(',').map((a) => a.trim());
  const examples = approvers.filter((a) => EXAMPLE_APPROVERS.includes(a));
  if (examples.length > 0) {
    found.push({
      variable: 'JARVIS_APPROVERS',
      fix: `${examples.join(', ')} ${examples.length === 1 ? 'is the example' : 'are the examples'} of .env.example: put your own ids (Discord: Developer Mode, then Copy User ID; Slack: profile, then Copy member ID)`,
    });
  }
  for (const [variable, value] of Object.entries(env)) {
    if (value && /REPLACE/.test(value)) found.push({ variable, fix: `${variable} still holds the placeholder of .env.example: set your own value` });
  }
  return found;
}
