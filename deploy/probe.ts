// Management reachability as commit-confirm sees it: a NEW TCP connection to the node's API port and to its SSH port
// through the configured management address. A fresh connection is the point: a firewall that locks the admin out
// still lets already-established connections through (conntrack), so reusing one would prove nothing.
// A connection that the peer closes right after the handshake (a filter that resets it, a service that is gone)
// counts as a failure: the port must stay open for a moment, or greet us (SSH sends its banner first).
import { connect } from 'node:net';

export interface TcpProbeResult {
  ok: boolean;
  detail: string;
}

export interface TcpProbeOptions {
  timeoutMs: number;
  /** How long a silent connection must stay open to count as accepted. */
  settleMs?: number;
}

export function probeTcp(host: string, port: number, options: TcpProbeOptions): Promise<TcpProbeResult> {
  const where = `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settle: NodeJS.Timeout | undefined;
    let finished = false;
    const done = (result: TcpProbeResult, graceful = false): void => {
      if (finished) return;
      finished = true;
      clearTimeout(settle);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      // An accepted probe closes with FIN, not RST: the peer may still be writing its greeting.
      if (graceful) {
        socket.end();
        socket.setTimeout(1_000, () => socket.destroy());
      } else {
        socket.destroy();
      }
      resolve(result);
    };
    socket.setTimeout(options.timeoutMs, () => done({ ok: false, detail: `${where} did not answer within ${options.timeoutMs} ms` }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, detail: `${where} ${error.code ?? error.message}` }));
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.once('data', () => done({ ok: true, detail: `${where} answers` }, true));
      socket.once('end', () => done({ ok: false, detail: `${where} closed the new connection right away` }));
      socket.once('close', () => done({ ok: false, detail: `${where} closed the new connection right away` }));
      settle = setTimeout(() => done({ ok: true, detail: `${where} accepts connections` }, true), options.settleMs ?? 250);
    });
  });
}

export interface ManagementEndpoints {
  host: string;
  apiPort: number;
  sshPort: number;
  timeoutMs?: number;
}

/** Both ports must accept a new connection; the detail names each. */
export function managementProbe(endpoints: ManagementEndpoints): () => Promise<TcpProbeResult> {
  const options = { timeoutMs: endpoints.timeoutMs ?? 3_000 };
  return async () => {
    const [api, ssh] = await Promise.all([probeTcp(endpoints.host, endpoints.apiPort, options), probeTcp(endpoints.host, endpoints.sshPort, options)]);
    return { ok: api.ok && ssh.ok, detail: `API ${api.detail}; SSH ${ssh.detail}` };
  };
}
