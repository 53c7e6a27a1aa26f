// Counts Proxmox API requests and the dependent round trips on the critical path, for the benchmark and tests.
// A call's depth is 1 + the deepest call that had completed when it was issued: calls issued together share a depth,
// a call issued after reading a response is one deeper. The maximum depth is the critical path in round trips.
// Guest-agent calls (exec and its status polls) are also tracked as their own lane: their depth is the agent's
// polling, not the inventory's shape.
import type { ProxmoxApi } from '../../infra/proxmox/api.ts';

export interface RequestStats {
  requests: number;
  /** Critical path over every call. */
  criticalRoundTrips: number;
  /** Critical path of the inventory reads alone (everything but the guest agent). */
  inventoryRoundTrips: number;
  /** Critical path of the guest-agent lane (exec + status polls), 0 when unused. */
  agentRoundTrips: number;
  byMethod: Record<string, number>;
}

interface Lane {
  completed: number;
  max: number;
}

export function instrumentApi(api: ProxmoxApi): { api: ProxmoxApi; stats: () => RequestStats } {
  let requests = 0;
  const all: Lane = { completed: 0, max: 0 };
  const inventory: Lane = { completed: 0, max: 0 };
  const agent: Lane = { completed: 0, max: 0 };
  const byMethod: Record<string, number> = {};
  const start = (lane: Lane) => {
    const depth = lane.completed + 1;
    lane.max = Math.max(lane.max, depth);
    return () => {
      lane.completed = Math.max(lane.completed, depth);
    };
  };
  const proxy = new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const name = String(property);
        requests += 1;
        byMethod[name] = (byMethod[name] ?? 0) + 1;
        const finishAll = start(all);
        const finishLane = start(name.startsWith('agent') ? agent : inventory);
        const done = () => {
          finishAll();
          finishLane();
        };
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) return result.finally(done);
        done();
        return result;
      };
    },
  });
  return {
    api: proxy,
    stats: () => ({ requests, criticalRoundTrips: all.max, inventoryRoundTrips: inventory.max, agentRoundTrips: agent.max, byMethod: { ...byMethod } }),
  };
}
