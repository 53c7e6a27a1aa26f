// `jarvis <command>`: each command lives in cli/commands/<name>.ts and is loaded only when used, so `jarvis check`
// does not pay for the chat libraries.
import { EXIT, JarvisError } from '../lib/errors.ts';
import { scrubSecrets } from '../lib/secret.ts';
import { processIo, type CliCommand, type CliIo } from './io.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: CliCommand }> }> = {
  check: { summary: 'validate specs (schema + guardrails)', load: () => import('./commands/check.ts') },
  plan: { summary: 'scan the lab and write a plan for a phase', load: () => import('./commands/plan.ts') },
  apply: { summary: 'apply a saved plan', load: () => import('./commands/apply.ts') },
  status: { summary: 'lab snapshot, headline first', load: () => import('./commands/status.ts') },
  watch: { summary: 'run the alert watchers', load: () => import('./commands/watch.ts') },
  bot: { summary: 'run the chat bot with the configured adapters', load: () => import('./commands/bot.ts') },
  demo: { summary: 'console chat + simulated lab (what `npm start` runs)', load: () => import('./commands/demo.ts') },
  sim: { summary: 'serve the simulated Proxmox node on loopback', load: () => import('./commands/sim.ts') },
  doctor: { summary: 'check configuration and reachability', load: () => import('./commands/doctor.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: jarvis <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`jarvis <command> --help\` for a command's options.\n`;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? EXIT.ok : EXIT.invalidInput;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`jarvis: unknown command "${name}"\n\n${usage()}`);
    return EXIT.invalidInput;
  }
  try {
    const { run } = await command.load();
    return await run(args, io);
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
