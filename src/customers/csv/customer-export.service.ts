import { Injectable } from '@nestjs/common';
import type { ProfileEntity } from '../../profiles/profile.entity';
import { ProfileDirectoryService } from '../../profiles/profile-directory.service';
import { CustomerDirectoryService, type CustomerFilter } from '../customer-directory.service';
import { optionalId } from '../../common/validation/id';
import { CSV_HEADER_LINE, csvLine, expiresCell, textCell } from './customer-csv';

/**
 * Customers to CSV (customer-csv.ts), oldest first, read a batch at a time. The password
 * column is there, empty: passwords are write-only. Each line ends with the customer's
 * version, which an import of the file checks. Importing the file into an empty radgraph and
 * exporting again gives the same file but for the versions (every customer there is new).
 */
@Injectable()
export class CustomerExportService {
  constructor(
    private readonly directory: CustomerDirectoryService,
    private readonly profiles: ProfileDirectoryService,
  ) {}

  /** The file, a header line and then a chunk of lines per batch of customers. */
  async *chunks(filter: CustomerFilter): AsyncGenerator<string> {
    const profiles = await this.profiles.list();
    const profileName = new Map(profiles.map((p) => [p.id, p.name]));
    yield CSV_HEADER_LINE;
    for await (const batch of this.directory.oldestFirst(filter)) {
      yield batch
        .map((c) =>
          csvLine([
            c.accountNo,
            c.username,
            '',
            c.phone ?? '',
            textCell(c.name),
            textCell(profileName.get(c.profileId) ?? null),
            expiresCell(c.expiresAt),
            String(c.version),
          ]),
        )
        .join('');
    }
  }

  /** A profile by its exact name (the CLI's --profile). */
  profileNamed(name: string): Promise<ProfileEntity | null> {
    return this.profiles.named(name);
  }

  /** The whole file (exportCustomers): a malformed filter.profileId is BAD_USER_INPUT naming it. */
  async text(filter: CustomerFilter): Promise<string> {
    optionalId('filter.profileId', filter.profileId, 'profileId');
    let out = '';
    for await (const chunk of this.chunks(filter)) out += chunk;
    return out;
  }
}
