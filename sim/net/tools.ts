// The simulated tools that answer from the lab rather than from their sandbox (sim/guest/oracle.ts routes them here).
import type { SimLab } from '../lab.ts';
import { pveFirewallCli } from './pve-firewall-cli.ts';
import { notFound, type Asker, type ToolAnswer } from './tool-answer.ts';

export function runTool(lab: SimLab, asker: Asker, tool: string, args: string[]): ToolAnswer {
  switch (tool) {
    case 'pve-firewall':
      return asker.kind === 'node' ? pveFirewallCli(lab.firewall, args) : notFound(tool);
    default:
      return notFound(tool);
  }
}
