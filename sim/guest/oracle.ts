// The stand-ins that answer from the simulated node rather than from their sandbox's files (pve-firewall on the node;
// ip, ping, nc, getent hosts, networkctl, netplan in guests) ask the simulator over a loopback socket: bash opens
// /dev/tcp/127.0.0.1/$JARVIS_SIM_ORACLE, writes its sandbox root, its name and its arguments (NUL-separated) and
// runs the answer, a short bash snippet that prints, waits the simulated time a real tool would take, and exits.
// Nothing leaves the machine: the answers come from the lab's topology, leases and firewall state.
import { createServer, type Server, type Socket } from 'node:net';
import type { Asker, ToolAnswer } from '../net/tool-answer.ts';

export type ToolHandler = (asker: Asker, tool: string, args: string[]) => ToolAnswer | Promise<ToolAnswer>;

/** bash single-quoting. */
const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/** The snippet the stand-in evaluates. */
export function answerScript(answer: ToolAnswer): string {
  const lines: string[] = [];
  if (answer.waitSeconds && answer.waitSeconds > 0) lines.push(`sleep ${answer.waitSeconds.toFixed(3)}`);
  if (answer.stdout) lines.push(`printf '%s' ${quote(answer.stdout)}`);
  if (answer.stderr) lines.push(`printf '%s' ${quote(answer.stderr)} >&2`);
  lines.push(`exit ${answer.code}`);
  return `${lines.join('\n')}\n`;
}

/** Reads NUL-terminated fields: root, tool, argc, then argc arguments. */
function parseRequest(buffer: Buffer): { root: string; tool: string; args: string[] } | undefined {
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < buffer.length; i++) {
    if (buffer[i] !== 0) continue;
    fields.push(buffer.subarray(start, i).toString('utf8'));
    start = i + 1;
    if (fields.length >= 3 && fields.length === 3 + Number(fields[2])) {
      return { root: fields[0]!, tool: fields[1]!, args: fields.slice(3) };
    }
  }
  return undefined;
}

export interface Oracle {
  /** The port, once listening. */
  port: Promise<number>;
  close(): Promise<void>;
}

export function startOracle(identify: (root: string) => Asker | undefined, handle: ToolHandler, host = '127.0.0.1'): Oracle {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      received = Buffer.concat([received, chunk]);
      const request = parseRequest(received);
      if (!request) return;
      answered = true;
      const asker = identify(request.root);
      const reply = asker
        ? Promise.resolve()
            .then(() => handle(asker, request.tool, request.args))
            .catch((error: unknown): ToolAnswer => ({ stderr: `${request.tool}: simulator error: ${error instanceof Error ? error.message : String(error)}\n`, code: 70 }))
        : Promise.resolve<ToolAnswer>({ stderr: `${request.tool}: not a simulated machine\n`, code: 127 });
      void reply.then((answer) => socket.end(answerScript(answer)));
    });
  });
  const port = new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('oracle: no port'));
      else resolve(address.port);
    });
  });
  return {
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
