import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { NotFoundError } from '../common/errors/app-error';
import { parseId } from '../common/validation/id';
import { rowLock, type RowLockMode } from '../database/row-locks';
import { ProfileEntity } from './profile.entity';

/**
 * Finding profiles: what other modules (customers, CSV import and export, usage) and the CLI
 * read of rg_profiles, so none of them reaches into the table itself. Reads only; changes go
 * through ProfilesService.
 */
@Injectable()
export class ProfileDirectoryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(ProfileEntity);
  }

  /** Every profile, by name. */
  list(): Promise<ProfileEntity[]> {
    return this.repo.find({ order: { name: 'ASC' } });
  }

  /** The profile, or null; `id` as the API gives it (a string), malformed: BAD_USER_INPUT. */
  async find(id: string | number, field = 'id'): Promise<ProfileEntity | null> {
    return this.repo.findOneBy({ id: parseId(field, id) });
  }

  async findMany(ids: readonly number[]): Promise<Map<number, ProfileEntity>> {
    if (ids.length === 0) return new Map();
    const rows = await this.repo.findBy({ id: In([...ids]) });
    return new Map(rows.map((p) => [p.id, p]));
  }

  /** A profile by its exact name (the CLI's --profile), or null. */
  named(name: string): Promise<ProfileEntity | null> {
    return this.repo.findOneBy({ name });
  }

  /**
   * For other modules' transactions: the profile, or NOT_FOUND naming `field`. Its row is
   * read locked (FOR SHARE on MySQL; SQLite runs one transaction at a time anyway) until the
   * caller commits, so the name it writes into radusergroup is the group's name: a rename
   * (which locks the row FOR UPDATE) waits for the caller and then moves its row too, or ran
   * first and the caller reads the new name. A plain read would see the name from before a
   * rename that commits while the caller's insert waits on the foreign key, and leave the
   * customer in a group no profile has.
   */
  require(manager: EntityManager, id: string | number, field: string): Promise<ProfileEntity> {
    return this.lock(manager, id, field, 'pessimistic_read');
  }

  /** As require, the row locked FOR UPDATE: for ProfilesService's own changes. */
  requireForUpdate(m: EntityManager, id: string | number, field: string): Promise<ProfileEntity> {
    return this.lock(m, id, field, 'pessimistic_write');
  }

  /**
   * Several profiles read locked FOR SHARE in `m`'s transaction, as require does: those that
   * still exist, by id.
   */
  async requireMany(m: EntityManager, ids: readonly number[]): Promise<Map<number, ProfileEntity>> {
    if (ids.length === 0) return new Map();
    const rows = await m.getRepository(ProfileEntity).find({
      where: { id: In([...ids]) },
      lock: rowLock(m, 'pessimistic_read'),
    });
    return new Map(rows.map((p) => [p.id, p]));
  }

  private async lock(
    m: EntityManager,
    id: string | number,
    field: string,
    mode: RowLockMode,
  ): Promise<ProfileEntity> {
    const profile = await m.getRepository(ProfileEntity).findOne({
      where: { id: parseId(field, id) },
      lock: rowLock(m, mode),
    });
    if (!profile) throw new NotFoundError(`No profile with id ${String(id)}`, { field });
    return profile;
  }
}
