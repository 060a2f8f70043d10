import { SetMetadata } from '@nestjs/common';
import type { Role } from './principal';

export const REQUIRED_ROLE = 'radgraph:required_role';

/**
 * The lowest role that may run a resolver's operations. Every resolver class carries one;
 * a method's own overrides its class's (a class that mixes roles). RolesGuard refuses an
 * operation whose resolver declares none, for every caller.
 */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);
