import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Role } from '../../auth/principal';
import { RequireRole } from '../../auth/roles.decorator';
import { CustomerExportService } from './customer-export.service';
import { CustomerImportMode, CustomerImportService } from './customer-import.service';
import { CustomerImportResult } from './models/customer-import.model';
import { CustomerFilterInput } from './dto/customer-filter.input';

const COLUMNS =
  'Columns: account_no, username, password, phone, name, profile, expires, version (README, "CSV import and export"). A row that would change a customer changed since its version was exported is refused (an error on its line); without the version column nothing is compared.';

@Resolver()
export class CustomerCsvResolver {
  constructor(
    private readonly importer: CustomerImportService,
    private readonly exporter: CustomerExportService,
  ) {}

  @RequireRole(Role.OPERATOR)
  @Mutation(() => CustomerImportResult, {
    description: `Imports customers from CSV text, matched on username: new ones are created, changed ones updated, the same ones left alone, so importing a file again changes nothing. Every row is checked first; errors come back by line. ${COLUMNS} Files larger than GRAPHQL_MAX_BODY_BYTES go through the CLI: npm run cli -- customers import file.csv.`,
  })
  importCustomers(
    @Args('csv') csv: string,
    @Args('dryRun', { type: () => Boolean, defaultValue: false }) dryRun: boolean,
    @Args('mode', {
      type: () => CustomerImportMode,
      defaultValue: CustomerImportMode.ALL_OR_NOTHING,
    })
    mode: CustomerImportMode,
  ): Promise<CustomerImportResult> {
    return this.importer.import(csv, { dryRun, mode });
  }

  @RequireRole(Role.VIEWER)
  @Query(() => String, {
    description: `The customers the filter matches (all without one) as CSV, oldest first; the password column is always empty. ${COLUMNS}`,
  })
  exportCustomers(
    @Args('filter', { type: () => CustomerFilterInput, nullable: true })
    filter?: CustomerFilterInput | null,
  ): Promise<string> {
    return this.exporter.text(filter ?? {});
  }
}
