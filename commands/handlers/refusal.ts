// A ServiceRefusal as a reply: what was refused and the command that helps next.
import { errorReply, type Reply } from '../reply.ts';
import type { ServiceRefusal } from '../services.ts';

const NEXT: Record<ServiceRefusal['code'], string> = {
  invalid: '/jarvis help',
  refused: '/jarvis check',
  unreachable: '/jarvis status',
  'not-found': '/jarvis history',
  locked: '/jarvis status',
  frozen: '/jarvis unfreeze',
  stale: '/jarvis plan <phase>',
};

export function refusalReply(title: string, refusal: ServiceRefusal): Reply {
  const lines = [refusal.message, ...(refusal.violations ?? []).map((v) => `⛔ ${v.message}${v.location ? ` (${v.location})` : ''}`)];
  return errorReply(title, lines, refusal.next ?? NEXT[refusal.code]);
}
