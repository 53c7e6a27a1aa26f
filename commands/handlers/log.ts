// `/jarvis log <UPID>` (an alert's "Show log"): the end of a task's log, where vzdump says what went wrong.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { reply, type Reply } from '../reply.ts';
import { refusalReply } from './refusal.ts';

export async function logCommand(command: Extract<ParsedCommand, { name: 'log' }>, ctx: CommandContext): Promise<Reply> {
  const log = await ctx.deps.services.taskLog(command.upid);
  if ('code' in log) return refusalReply('Cannot read that task log', log);
  const failed = log.status !== 'OK' && log.status !== 'running';
  const head = [`task ${log.upid}`, `status: ${log.status}`, log.lines.length < log.total ? `last ${log.lines.length} of ${log.total} lines` : `${log.total} lines`];
  const sections = [{ lines: head }, { title: 'Log tail', lines: log.lines.length ? log.lines : ['(empty)'] }];
  const vmid = /:vzdump:(\d+):/.exec(log.upid)?.[1];
  const next = failed && vmid ? `/jarvis retry ${vmid}` : '/jarvis backups';
  return reply(failed ? 'high' : 'info', `Task log${failed ? ': failed' : ''}`, sections, next);
}
