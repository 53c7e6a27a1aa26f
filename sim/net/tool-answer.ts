// What a simulated tool answers (the stand-ins in sim/guest/shims run it, sim/guest/oracle.ts carries it).

/** Who runs the tool: the node's shell or a guest. */
export type Asker = { kind: 'node' } | { kind: 'guest'; vmid: number };

export interface ToolAnswer {
  stdout?: string;
  stderr?: string;
  code: number;
  /** Simulated seconds the tool takes before it answers (a probe that times out). */
  waitSeconds?: number;
}

/** What bash prints for a program that is not on the PATH. */
export const notFound = (tool: string): ToolAnswer => ({ stderr: `bash: ${tool}: command not found\n`, code: 127 });
