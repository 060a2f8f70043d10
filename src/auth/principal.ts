/**
 * Roles, lowest first. Each role may do everything the roles below it may. Resolvers declare
 * the role an operation needs with @RequireRole (roles.decorator.ts); RolesGuard checks it.
 */
export enum Role {
  VIEWER = 'VIEWER',
  OPERATOR = 'OPERATOR',
  ADMIN = 'ADMIN',
}

const RANK: Record<Role, number> = { [Role.VIEWER]: 0, [Role.OPERATOR]: 1, [Role.ADMIN]: 2 };

/** True when `role` is at least `required`. */
export function roleAllows(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/** Who is calling. */
export type Principal =
  | {
      /** The bootstrap ADMIN_TOKEN. */
      kind: 'admin-token';
      /** A name for logs and the audit trail; never the secret itself. */
      name: string;
      role: Role;
    }
  | {
      /** An API key (rg_api_keys). */
      kind: 'api-key';
      /** The key's id: revoking it closes this caller's graphql-ws connections. */
      keyId: number;
      name: string;
      role: Role;
    };
