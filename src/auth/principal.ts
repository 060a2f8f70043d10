/**
 * Roles, lowest first. Today the only principal is the bootstrap admin token (ADMIN); API
 * keys with roles plug in at AuthService.authenticate, and guards read `role`.
 */
export enum Role {
  VIEWER = 'VIEWER',
  OPERATOR = 'OPERATOR',
  ADMIN = 'ADMIN',
}

/** Who is calling. */
export interface Principal {
  /** How the caller proved itself. */
  kind: 'admin-token';
  /** A name for logs and the audit trail; never the secret itself. */
  name: string;
  role: Role;
}
