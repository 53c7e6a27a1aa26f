// Privileges as PVE checks them (pve-access-control PVE/RPCEnvironment.pm): a caller's privileges at a path come from
// the most specific ACL on that path or an ancestor; each API method's declared check (lib/pve-schema/
// permissions.json, evaluated like exec_api2_perm_check) runs first, then the checks its handler makes inside
// (sim/permission-checks.ts). root@pam passes everything. A failed check is HTTP 403 "Permission check failed (…)".
import { readFileSync } from 'node:fs';
import { PveHttpError, type Params } from './http.ts';

export interface AclEntry {
  path: string;
  privileges: readonly string[];
}

type Check = unknown[];

const declared = (JSON.parse(readFileSync(new URL('../lib/pve-schema/permissions.json', import.meta.url), 'utf8')) as { methods: Record<string, { check?: Check; user?: string }> }).methods;

/** PVE::Exception raise_perm_exc. */
export function permissionDenied(what?: string): never {
  throw new PveHttpError(403, what ? `Permission check failed (${what})` : 'Permission check failed');
}

export class Permissions {
  constructor(
    readonly authid: string,
    /** Role assignments; a deeper path replaces what the caller inherits from above (propagation). */
    private readonly acl: readonly AclEntry[],
  ) {}

  get isRoot(): boolean {
    return this.authid === 'root@pam';
  }

  /** RPCEnvironment permissions: the privileges at a path. */
  privilegesAt(path: string): Set<string> {
    const normal = path === '/' ? '/' : path.replace(/\/+$/, '');
    const matching = this.acl.filter((entry) => entry.path === '/' || normal === entry.path || normal.startsWith(`${entry.path}/`));
    const deepest = matching.sort((a, b) => b.path.length - a.path.length)[0];
    return new Set(deepest?.privileges ?? []);
  }

  /** RPCEnvironment check: every privilege, or 403 naming the first one missing. */
  check(path: string, privileges: readonly string[], noerr = false): boolean {
    if (this.isRoot) return true;
    const have = this.privilegesAt(path);
    for (const privilege of privileges) {
      if (!have.has(privilege)) return noerr ? false : permissionDenied(`${path}, ${privilege}`);
    }
    return true;
  }

  /** RPCEnvironment check_any: one of them, or 403 naming them all. */
  checkAny(path: string, privileges: readonly string[], noerr = false): boolean {
    if (this.isRoot) return true;
    const have = this.privilegesAt(path);
    if (privileges.some((privilege) => have.has(privilege))) return true;
    return noerr ? false : permissionDenied(`${path}, ${privileges.join('|')}`);
  }

  /** The method's declared permissions (check_api2_permissions); undeclared methods are root@pam's. */
  checkMethod(method: string, template: string, values: Record<string, string>): void {
    if (this.isRoot) return;
    const permission = declared[`${method} ${template}`];
    if (!permission || (permission.check === undefined && permission.user === undefined)) return permissionDenied('user != root@pam');
    if (permission.check !== undefined) this.evaluate(permission.check, values, false);
  }

  /** exec_api2_perm_check for the `perm`, `and` and `or` tests (the ones the simulated methods declare). */
  private evaluate(check: Check, values: Record<string, string>, noerr: boolean): boolean {
    const [test, ...rest] = check;
    if (test === 'and') {
      for (const sub of rest) this.evaluate(sub as Check, values, false);
      return true;
    }
    if (test === 'or') {
      if (rest.some((sub) => this.evaluate(sub as Check, values, true))) return true;
      return noerr ? false : permissionDenied();
    }
    if (test === 'perm') {
      const [template, privileges, ...options] = rest as [string, string[], ...unknown[]];
      const option = (name: string): unknown => options[options.indexOf(name) + 1];
      const requireParam = option('require_param');
      if (options.includes('require_param') && values[String(requireParam)] === undefined) return noerr ? false : permissionDenied();
      const path = template.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? '');
      return options.includes('any') && option('any') ? this.checkAny(path, privileges, noerr) : this.check(path, privileges, noerr);
    }
    return noerr ? false : permissionDenied();
  }

  /** What GET /access/permissions answers for a path. */
  listAt(path: string): Record<string, Record<string, number>> {
    const privileges = this.isRoot ? [] : [...this.privilegesAt(path)];
    return { [path]: Object.fromEntries(privileges.sort().map((p) => [p, 1])) };
  }
}

/** Path placeholders and single-valued parameters, as template_replace sees them. */
export function checkValues(path: Record<string, string>, params: Params): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) if (typeof value === 'string') values[key] = value;
  return { ...values, ...path };
}
