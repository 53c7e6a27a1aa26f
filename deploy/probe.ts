// Management reachability as commit-confirm sees it: a NEW TCP connection to the node's API port and to its SSH port
// through the configured management address. A fresh connection is the point: a firewall that locks the admin out
// still lets already-established connections through (conntrack), so reusing one would prove nothing.
import { connect } from 'node:net';

export interface TcpProbeResult {
  ok: boolean;
  detail: string;
}

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<TcpProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: TcpProbeResult, graceful = false): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      // A connected probe closes with FIN, not RST: the peer may still be writing its greeting (SSH banner).
      if (graceful) {
        socket.end();
        socket.setTimeout(1_000, () => socket.destroy());
      } else {
        socket.destroy();
      }
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, detail: `${host}:${port} did not answer within ${timeoutMs} ms` }));
    socket.once('connect', () => done({ ok: true, detail: `${host}:${port} accepts connections` }, true));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, detail: `${host}:${port} ${error.code ?? error.message}` }));
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
  const timeoutMs = endpoints.timeoutMs ?? 3_000;
  return async () => {
    const [api, ssh] = await Promise.all([
      probeTcp(endpoints.host, endpoints.apiPort, timeoutMs),
      probeTcp(endpoints.host, endpoints.sshPort, timeoutMs),
    ]);
    return { ok: api.ok && ssh.ok, detail: `API ${api.detail}; SSH ${ssh.detail}` };
  };
}
