// `jarvis <command>`: each command lives in cli/commands/<name>.ts and is loaded only when used, so `jarvis check`
// does not pay for the chat libraries. Every command's arguments go through the one parser in cli/args.ts.
import { didYouMean } from '../commands/suggest.ts';
import { EXIT, JarvisError } from '../lib/errors.ts';
import { scrubSecrets } from '../lib/secret.ts';
import { helpText, parseCommandLine, type CliCommand } from './args.ts';
import { processIo, type CliIo } from './io.ts';

type Loader = () => Promise<{ command: CliCommand }>;

const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  bootstrap: { summary: 'from a bare Proxmox node to Jarvis in chat (phase 0, then Jarvis on VM 100)', load: () => import('./commands/bootstrap.ts') },
  check: { summary: 'validate specs (schema + guardrails)', load: () => import('./commands/check.ts') },
  plan: { summary: 'scan the lab and write a plan for a phase', load: () => import('./commands/plan.ts') },
  apply: { summary: 'apply a saved plan', load: () => import('./commands/apply.ts') },
  rollback: { summary: 'plan the rollback of a VM to a snapshot (Jarvis\'s own VM only from here)', load: () => import('./commands/rollback.ts') },
  status: { summary: 'lab snapshot, headline first', load: () => import('./commands/status.ts') },
  watch: { summary: 'run the alert watchers', load: () => import('./commands/watch.ts') },
  bot: { summary: 'run the chat bot with the configured adapters', load: () => import('./commands/bot.ts') },
  demo: { summary: 'console chat + simulated lab (what `npm start` runs)', load: () => import('./commands/demo.ts') },
  sim: { summary: 'serve the simulated Proxmox node on loopback', load: () => import('./commands/sim.ts') },
  doctor: { summary: 'check configuration and reachability', load: () => import('./commands/doctor.ts') },
  'register-discord': { summary: 'register the /jarvis command in the Discord guild', load: () => import('./commands/register-discord.ts') },
};

/** The subcommands, in the order `jarvis --help` lists them. */
export const COMMAND_NAMES = Object.keys(COMMANDS);

/** A subcommand's definition (options, help, exit codes), loaded like `jarvis <name>` loads it. */
export async function loadCommand(name: string): Promise<CliCommand | undefined> {
  return (await COMMANDS[name]?.load())?.command;
}

export function usage(): string {
  const width = Math.max(...COMMAND_NAMES.map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: jarvis <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`jarvis <command> --help\` (or \`jarvis help <command>\`) for a command's options and exit codes.\n`;
}

function unknownCommand(name: string, io: CliIo): number {
  const guess = didYouMean(name, COMMAND_NAMES);
  io.stderr(`jarvis: unknown command "${name}"${guess ? `; did you mean "${guess}"?` : ''}\n\n${usage()}`);
  return EXIT.invalidInput;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined;
    if (topic !== undefined) {
      const command = await loadCommand(topic);
      if (!command) return unknownCommand(topic, io);
      io.stdout(helpText(command.spec));
      return EXIT.ok;
    }
    io.stdout(usage());
    return name ? EXIT.ok : EXIT.invalidInput;
  }
  if (!COMMANDS[name]) return unknownCommand(name, io);
  try {
    const command = (await loadCommand(name))!;
    const parsed = parseCommandLine(command.spec, args);
    if (parsed === 'help') {
      io.stdout(helpText(command.spec));
      return EXIT.ok;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof JarvisError) {
      io.stderr(scrubSecrets(`jarvis ${name}: ${error.message}\n`));
      return error.exitCode;
    }
    const detail = error instanceof Error ? (io.env.JARVIS_DEBUG ? error.stack ?? error.message : error.message) : String(error);
    io.stderr(scrubSecrets(`jarvis ${name}: unexpected error: ${detail}\n`));
    return EXIT.failed;
  }
}
