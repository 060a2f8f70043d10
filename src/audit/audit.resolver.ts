import { Args, Query, Resolver } from '@nestjs/graphql';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';
import { mapConnection } from '../common/pagination/connection';
import { AuditService } from './audit.service';
import { AuditLogArgs } from './dto/audit-log.args';
import { toAuditEntry } from './models/audit-entry.mapper';
import { AuditEntryConnection } from './models/audit-entry.model';

@Resolver()
@RequireRole(Role.ADMIN)
export class AuditResolver {
  constructor(private readonly audit: AuditService) {}

  @Query(() => AuditEntryConnection, {
    description: 'The audit trail, newest first: every mutation, who made it, and what changed.',
  })
  async auditLog(@Args() args: AuditLogArgs): Promise<AuditEntryConnection> {
    const page = await this.audit.list(args.filter ?? {}, args.first ?? 50, args.after);
    return mapConnection(page, toAuditEntry);
  }
}
