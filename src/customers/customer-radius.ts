import type { EntityManager } from 'typeorm';
import { RadCheck, RadReply, RadUserGroup } from '../database/freeradius';
import { expirationValue } from './customer-rules';

/**
 * A customer's rows in FreeRADIUS's tables (design.md, "A customer is a FreeRADIUS user"):
 *   radcheck      Cleartext-Password := <password>
 *                 Expiration         := <expiresAt, rlm_expiration format>
 *                 Simultaneous-Use   := 1
 *                 Auth-Type          := Reject      (only while suspended)
 *   radusergroup  username -> the profile's group
 * Every function runs inside the caller's transaction.
 */
export class CustomerRadiusRows {
  constructor(
    private readonly m: EntityManager,
    private readonly username: string,
  ) {}

  /** Rows FreeRADIUS already has for this username (made outside radgraph). */
  async exist(): Promise<boolean> {
    const checks = await this.m.getRepository(RadCheck).countBy({ username: this.username });
    const groups = await this.m.getRepository(RadUserGroup).countBy({ username: this.username });
    return checks + groups > 0;
  }

  async create(password: string, expiresAt: Date | null, groupname: string): Promise<void> {
    await this.m.getRepository(RadCheck).insert([
      { username: this.username, attribute: 'Cleartext-Password', op: ':=', value: password },
      { username: this.username, attribute: 'Simultaneous-Use', op: ':=', value: '1' },
    ]);
    await this.setExpiration(expiresAt);
    await this.setGroup(groupname);
  }

  setPassword(password: string): Promise<void> {
    return this.setCheck('Cleartext-Password', password);
  }

  setExpiration(expiresAt: Date | null): Promise<void> {
    return this.setCheck('Expiration', expiresAt === null ? null : expirationValue(expiresAt));
  }

  setSuspended(suspended: boolean): Promise<void> {
    return this.setCheck('Auth-Type', suspended ? 'Reject' : null);
  }

  async setGroup(groupname: string): Promise<void> {
    const repo = this.m.getRepository(RadUserGroup);
    await repo.delete({ username: this.username });
    await repo.insert({ username: this.username, groupname, priority: 1 });
  }

  /** Removes every check, reply and group row of the username. radacct history stays. */
  async remove(): Promise<void> {
    for (const table of [RadCheck, RadReply, RadUserGroup]) {
      await this.m.getRepository(table).delete({ username: this.username });
    }
  }

  /** One `attribute := value` check item; null removes it. */
  private async setCheck(attribute: string, value: string | null): Promise<void> {
    const repo = this.m.getRepository(RadCheck);
    await repo.delete({ username: this.username, attribute });
    if (value !== null) await repo.insert({ username: this.username, attribute, op: ':=', value });
  }
}
