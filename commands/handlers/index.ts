// The handler of each command. Every handler takes the parsed command and one small context, returns a Reply.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import type { Reply } from '../reply.ts';
import { alertsTestCommand } from './alerts-test.ts';
import { applyCommand } from './apply.ts';
import { decideCommand } from './decide.ts';
import { detailsCommand } from './details.ts';
import { dryRunCommand } from './dry-run.ts';
import { gateCommand } from './gates.ts';
import { helpCommand } from './help.ts';
import { historyCommand } from './history.ts';
import { logCommand } from './log.ts';
import { planCommand } from './plan.ts';
import { reportCommand } from './reports.ts';
import { retryCommand } from './retry.ts';
import { rollbackCommand } from './rollback.ts';
import { snapshotsCommand } from './snapshots.ts';
import { snoozeCommand } from './snooze.ts';

/** Runs one command. Undefined means "say nothing" (a repeated approval). */
export function runCommand(command: ParsedCommand, ctx: CommandContext): Promise<Reply | undefined> {
  switch (command.name) {
    case 'plan':
      return planCommand(command, ctx);
    case 'rollback':
      return rollbackCommand(command, ctx);
    case 'retry':
      return retryCommand(command, ctx);
    case 'log':
      return logCommand(command, ctx);
    case 'snooze':
      return snoozeCommand(command, ctx);
    case 'apply':
      return applyCommand(command, ctx);
    case 'approve':
    case 'reject':
    case 'confirm':
      return decideCommand(command, ctx);
    case 'dry-run':
      return dryRunCommand(command, ctx);
    case 'details':
      return detailsCommand(command, ctx);
    case 'status':
    case 'backups':
    case 'check':
    case 'drift':
      return reportCommand(command, ctx);
    case 'snapshots':
      return snapshotsCommand(command, ctx);
    case 'lock':
    case 'unlock':
    case 'freeze':
    case 'unfreeze':
      return gateCommand(command, ctx);
    case 'history':
      return historyCommand(command, ctx);
    case 'alerts-test':
      return alertsTestCommand(ctx);
    case 'help':
      return helpCommand(command, ctx);
  }
}
