// What a simulator route handler gets, and the table that maps `METHOD /template` to handlers.
import type { Params } from '../http.ts';
import type { SimLab } from '../lab.ts';

export interface RouteContext {
  lab: SimLab;
  params: Params;
  /** Decoded path placeholders. */
  path: Record<string, string>;
  /** Authenticated id as PVE writes it into UPIDs: `root@pam` (ticket) or a token id such as `jarvis@pve!chatops`. */
  user: string;
}

export type Handler = (ctx: RouteContext) => unknown;
export type RouteTable = Record<string, Handler>;
