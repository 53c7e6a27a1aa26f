// Counts Proxmox API requests and the dependent round trips on the critical path, for the benchmark and tests.
// A call's depth is 1 + the deepest call that had completed when it was issued: calls issued together share a depth,
// a call issued after reading a response is one deeper. The maximum depth is the critical path in round trips.
import type { ProxmoxApi } from '../../infra/proxmox/api.ts';

export interface RequestStats {
  requests: number;
  criticalRoundTrips: number;
  byMethod: Record<string, number>;
}

export function instrumentApi(api: ProxmoxApi): { api: ProxmoxApi; stats: () => RequestStats } {
  let requests = 0;
  let completedDepth = 0;
  let maxDepth = 0;
  const byMethod: Record<string, number> = {};
  const proxy = new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const depth = completedDepth + 1;
        requests += 1;
        maxDepth = Math.max(maxDepth, depth);
        byMethod[String(property)] = (byMethod[String(property)] ?? 0) + 1;
        const done = () => {
          completedDepth = Math.max(completedDepth, depth);
        };
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) return result.finally(done);
        done();
        return result;
      };
    },
  });
  return { api: proxy, stats: () => ({ requests, criticalRoundTrips: maxDepth, byMethod: { ...byMethod } }) };
}
