import { requestLoader } from '../common/dataloader/request-loader';
import type { ProfileEntity } from './profile.entity';
import type { ProfileDirectoryService } from './profile-directory.service';

/**
 * The profiles of one GraphQL request's rows by id, batched (one query for a page of
 * customers): Customer.profile and Customer.usage share it.
 */
export function profileById(ctx: object, profiles: ProfileDirectoryService) {
  return requestLoader(
    ctx,
    'profileById',
    (ids: readonly number[]) => profiles.findMany(ids),
    null as ProfileEntity | null,
  );
}
