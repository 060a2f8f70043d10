import { Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { CustomerImportMode } from '../customer-import.service';

registerEnumType(CustomerImportMode, {
  name: 'CustomerImportMode',
  description: 'What a non-dry-run import does when some rows have errors.',
  valuesMap: {
    ALL_OR_NOTHING: { description: 'Writes nothing if any row has an error (the default).' },
    VALID_ROWS: { description: 'Writes the valid rows and skips the others.' },
  },
});

@ObjectType({ description: 'A row of the file that cannot be imported, and why.' })
export class CustomerImportError {
  @Field(() => Int, { description: 'The line of the file, the header being line 1.' })
  line!: number;

  @Field(() => String, {
    nullable: true,
    description: 'The column at fault (account_no, username, …); null for the line as a whole.',
  })
  column!: string | null;

  @Field()
  message!: string;
}

@ObjectType({ description: 'A password radgraph generated for a new customer: shown this once.' })
export class ImportedCustomerPassword {
  @Field(() => Int)
  line!: number;

  @Field()
  username!: string;

  @Field()
  password!: string;
}

@ObjectType({ description: 'What an import did, or in a dry run would do.' })
export class CustomerImportResult {
  @Field()
  dryRun!: boolean;

  @Field(() => CustomerImportMode)
  mode!: CustomerImportMode;

  @Field(() => Int, { description: 'Data lines read (not counting the header).' })
  rows!: number;

  @Field(() => Int, { description: 'New customers: created, or in a dry run to be created.' })
  created!: number;

  @Field(() => Int, { description: 'Existing customers (matched on username) that differ.' })
  updated!: number;

  @Field(() => Int, { description: 'Rows that match their customer exactly: nothing to do.' })
  unchanged!: number;

  @Field(() => Int, { description: 'Rows with at least one error.' })
  invalid!: number;

  @Field({
    description:
      'Whether anything was written: false in a dry run, and with ALL_OR_NOTHING when a row has an error.',
  })
  written!: boolean;

  @Field(() => [CustomerImportError], { description: 'By line; a row may have several.' })
  errors!: CustomerImportError[];

  @Field(() => [String], { description: 'Header cells that name no column; ignored.' })
  ignoredColumns!: string[];

  @Field(() => [ImportedCustomerPassword], {
    description:
      'For new customers whose row had no password: the one radgraph generated, shown only in this answer.',
  })
  generatedPasswords!: ImportedCustomerPassword[];

  @Field(() => Int, {
    description:
      'Online customers moved to another profile whose NAS did not take the new rate now (it applies at their next login).',
  })
  ratePushFailures!: number;
}
