// `pve-firewall` on the node (pve-firewall src/PVE/Service/pve_firewall.pm $cmddef): `status` prints
// "Status: <enabled|disabled>/<running|stopped>" and " (pending changes)" while the configuration differs from the
// loaded ruleset; `start`/`restart` run the daemon, whose loop begins with an update (so the change applies now);
// `stop` removes PVE's rules ("stopping actively removes all Proxmox VE related iptable rules").
import type { FirewallDaemon } from './firewall-daemon.ts';
import type { ToolAnswer } from './tool-answer.ts';

const USAGE = 'USAGE: pve-firewall <COMMAND> [ARGS] [OPTIONS]\n       pve-firewall compile\n       pve-firewall help [<extra-args>] [OPTIONS]\n       pve-firewall localnet\n       pve-firewall restart\n       pve-firewall simulate [OPTIONS]\n       pve-firewall start [OPTIONS]\n       pve-firewall status\n       pve-firewall stop\n';

export function pveFirewallCli(daemon: FirewallDaemon, args: string[]): ToolAnswer {
  switch (args[0]) {
    case 'status': {
      const status = daemon.status();
      const line = `Status: ${status.enable ? 'enabled' : 'disabled'}/${status.status}${status.changes ? ' (pending changes)' : ''}\n`;
      return { stdout: line, code: 0 };
    }
    case 'start':
    case 'restart':
      daemon.serviceStart();
      return { code: 0 };
    case 'stop':
      daemon.serviceStop();
      return { code: 0 };
    case 'compile':
    case 'simulate':
    case 'localnet':
      // Their output is iptables/ipset command lists and routing facts the simulator does not produce.
      return { stderr: `pve-firewall ${args[0]}: not simulated (use 'pve-firewall status')\n`, code: 1 };
    case undefined:
      return { stderr: `ERROR: no command specified\n${USAGE}`, code: 255 };
    default:
      return { stderr: `ERROR: unknown command 'pve-firewall ${args[0]}'\n${USAGE}`, code: 255 };
  }
}
