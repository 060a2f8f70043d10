import { In, type EntityManager } from 'typeorm';
import { chunksOf } from '../common/sql/in-list';
import { insertRows } from '../database/bulk-writes';
import { RadCheck, RadReply, RadUserGroup } from '../database/freeradius';
import { expirationValue } from './customer-rules';

/**
 * A customer's rows in FreeRADIUS's tables (design.md, "A customer is a FreeRADIUS user"):
 *   radcheck      Cleartext-Password := <password>  (a customer adopted from another tool may
 *                                                     have MD5-Password… until its next password)
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

  create(password: string, expiresAt: Date | null, groupname: string): Promise<void> {
    return CustomerRadiusBulk.create(this.m, [
      { username: this.username, password, expiresAt, groupname },
    ]);
  }

  setPassword(password: string): Promise<void> {
    return CustomerRadiusBulk.setPasswords(this.m, [[this.username, password]]);
  }

  setExpiration(expiresAt: Date | null): Promise<void> {
    return CustomerRadiusBulk.setExpiration(this.m, [[this.username, expiresAt]]);
  }

  setSuspended(suspended: boolean): Promise<void> {
    return this.setCheck('Auth-Type', suspended ? 'Reject' : null);
  }

  setGroup(groupname: string): Promise<void> {
    return CustomerRadiusBulk.setGroup(this.m, [[this.username, groupname]]);
  }

  /** Removes every check, reply and group row of the username. radacct history stays. */
  async remove(): Promise<void> {
    for (const table of [RadCheck, RadReply, RadUserGroup]) {
      await this.m.getRepository(table).delete({ username: this.username });
    }
  }

  /** One `attribute := value` check item; null removes it. */
  private setCheck(attribute: string, value: string | null): Promise<void> {
    return CustomerRadiusBulk.setCheck(this.m, attribute, [[this.username, value]]);
  }
}

/**
 * The check items that hold a user's password for rlm_pap (and rlm_mschap): what another tool
 * may have written instead of Cleartext-Password.
 */
export const PASSWORD_ATTRIBUTES = [
  'Cleartext-Password',
  'User-Password',
  'Password-With-Header',
  'Crypt-Password',
  'MD5-Password',
  'SMD5-Password',
  'SHA-Password',
  'SSHA-Password',
  'SHA1-Password',
  'SSHA1-Password',
  'SHA2-Password',
  'SHA-256-Password',
  'SSHA-256-Password',
  'SHA-512-Password',
  'SSHA-512-Password',
  'NT-Password',
  'LM-Password',
  'NS-MTA-MD5-Password',
  'PBKDF2-Password',
];

/** A new customer's FreeRADIUS rows, for CustomerRadiusBulk.create. */
export interface NewRadiusUser {
  username: string;
  password: string;
  expiresAt: Date | null;
  groupname: string;
}

/**
 * The rows of CustomerRadiusRows for many customers at once, with multi-row statements (a CSV
 * import), in the caller's transaction; CustomerRadiusRows writes one customer's through them.
 */
export const CustomerRadiusBulk = {
  async create(m: EntityManager, users: readonly NewRadiusUser[]): Promise<void> {
    const checks = users.flatMap((u) => [
      [u.username, 'Cleartext-Password', ':=', u.password],
      [u.username, 'Simultaneous-Use', ':=', '1'],
      ...(u.expiresAt === null
        ? []
        : [[u.username, 'Expiration', ':=', expirationValue(u.expiresAt)]]),
    ]);
    await insertRows(m, tableOf(m, RadCheck), ['username', 'attribute', 'op', 'value'], checks);
    await insertRows(
      m,
      tableOf(m, RadUserGroup),
      ['username', 'groupname', 'priority'],
      users.map((u) => [u.username, u.groupname, 1]),
    );
  },

  /** `attribute := value` for each (username, value); a null value removes the item. */
  async setCheck(
    m: EntityManager,
    attribute: string,
    values: ReadonlyArray<readonly [string, string | null]>,
  ): Promise<void> {
    if (values.length === 0) return;
    for (const part of chunksOf(values.map(([u]) => u))) {
      await m.getRepository(RadCheck).delete({ attribute, username: In(part) });
    }
    const rows = values.flatMap(([u, v]) => (v === null ? [] : [[u, attribute, ':=', v]]));
    await insertRows(m, tableOf(m, RadCheck), ['username', 'attribute', 'op', 'value'], rows);
  },

  /**
   * A new password for each (username, password): `Cleartext-Password := <password>`, and no
   * other password item. A user adopted from another tool may have an MD5-Password or a
   * Crypt-Password instead; left there, rlm_pap could check the old one first.
   */
  async setPasswords(
    m: EntityManager,
    values: ReadonlyArray<readonly [string, string]>,
  ): Promise<void> {
    if (values.length === 0) return;
    for (const part of chunksOf(values.map(([u]) => u))) {
      await m
        .getRepository(RadCheck)
        .delete({ attribute: In(PASSWORD_ATTRIBUTES), username: In(part) });
    }
    // Cleartext-Password is among those just deleted: only the insert of setCheck is left.
    await insertRows(
      m,
      tableOf(m, RadCheck),
      ['username', 'attribute', 'op', 'value'],
      values.map(([u, password]) => [u, 'Cleartext-Password', ':=', password]),
    );
  },

  setExpiration(
    m: EntityManager,
    values: ReadonlyArray<readonly [string, Date | null]>,
  ): Promise<void> {
    return this.setCheck(
      m,
      'Expiration',
      values.map(([u, at]) => [u, at === null ? null : expirationValue(at)] as const),
    );
  },

  async setGroup(
    m: EntityManager,
    groups: ReadonlyArray<readonly [string, string]>,
  ): Promise<void> {
    if (groups.length === 0) return;
    for (const part of chunksOf(groups.map(([u]) => u))) {
      await m.getRepository(RadUserGroup).delete({ username: In(part) });
    }
    await insertRows(
      m,
      tableOf(m, RadUserGroup),
      ['username', 'groupname', 'priority'],
      groups.map(([u, g]) => [u, g, 1]),
    );
  },
};

const tableOf = (m: EntityManager, entity: typeof RadCheck | typeof RadUserGroup) =>
  m.connection.getMetadata(entity).tableName;
