// Plain HTTPS calls to the simulator, the way any third-party client would make them (form bodies, 0/1 booleans).
import { Agent, request } from 'undici';
import type { RunningSim } from '../../sim/server.ts';

export interface ApiResponse {
  status: number;
  statusText: string;
  body: { data: unknown; errors?: Record<string, string>; changes?: string };
}

export function agentFor(sim: RunningSim): Agent {
  return new Agent({ connect: { ca: sim.caPem, servername: 'proxmox' } });
}

export async function call(
  sim: RunningSim,
  agent: Agent,
  method: string,
  path: string,
  params: Record<string, string | number | string[]> = {},
  headers: Record<string, string> = { authorization: `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}` },
): Promise<ApiResponse> {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(key, String(item));
  }
  const withBody = method === 'POST' || method === 'PUT';
  const query = !withBody && form.size ? `?${form}` : '';
  const res = await request(`${sim.url}/api2/json${path}${query}`, {
    method: method as 'GET',
    dispatcher: agent,
    headers: withBody ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' } : headers,
    body: withBody ? form.toString() : undefined,
  });
  const text = await res.body.text();
  return { status: res.statusCode, statusText: res.statusText, body: JSON.parse(text) as ApiResponse['body'] };
}

/** Polls a task until it stops; returns its status row. */
export async function waitTask(sim: RunningSim, agent: Agent, upid: unknown): Promise<{ status: string; exitstatus?: string }> {
  for (let i = 0; i < 400; i++) {
    const res = await call(sim, agent, 'GET', `/nodes/proxmox/tasks/${encodeURIComponent(String(upid))}/status`);
    const data = res.body.data as { status: string; exitstatus?: string };
    if (data.status === 'stopped') return data;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`task ${String(upid)} did not stop`);
}
