import { Column, Entity, Index } from 'typeorm';

/**
 * FreeRADIUS's accounting table, column for column as in FreeRADIUS 3.2's
 * mods-config/sql/main/mysql/schema.sql, plus radgraph's rg_seen_at and rg_radacct_open_*
 * indexes. Octet counters are strings: they are exact 64-bit values (Gigawords << 32 | Octets),
 * read with mysql2's bigNumberStrings.
 */
@Entity({ name: 'radacct' })
@Index(['acctUniqueId'], { unique: true })
@Index(['username'])
@Index(['framedIpAddress'])
@Index(['framedIpv6Address'])
@Index(['framedIpv6Prefix'])
@Index(['framedInterfaceId'])
@Index(['delegatedIpv6Prefix'])
@Index(['acctSessionId'])
@Index(['acctSessionTime'])
@Index(['acctStartTime'])
@Index(['acctInterval'])
@Index(['acctStopTime'])
@Index(['nasIpAddress'])
@Index(['class'])
// radgraph's additions: who is online (see the migration OnlineSessionIndexes1764028800000).
@Index('rg_radacct_open_nas', [
  'acctStopTime',
  'nasIpAddress',
  'radAcctId',
  'acctInputOctets',
  'acctOutputOctets',
])
@Index('rg_radacct_open_username', ['acctStopTime', 'username'])
@Index('rg_radacct_open_ip', ['acctStopTime', 'framedIpAddress'])
@Index('rg_radacct_open_mac', ['acctStopTime', 'callingStationId'])
export class RadAcct {
  @Column({ name: 'radacctid', type: 'bigint', width: 21, primary: true, generated: 'increment' })
  radAcctId!: string;

  @Column({ name: 'acctsessionid', type: 'varchar', length: 64, default: '' })
  acctSessionId!: string;

  @Column({ name: 'acctuniqueid', type: 'varchar', length: 32, default: '' })
  acctUniqueId!: string;

  @Column({ name: 'username', type: 'varchar', length: 64, default: '' })
  username!: string;

  @Column({ name: 'realm', type: 'varchar', length: 64, nullable: true, default: '' })
  realm!: string | null;

  @Column({ name: 'nasipaddress', type: 'varchar', length: 15, default: '' })
  nasIpAddress!: string;

  @Column({ name: 'nasportid', type: 'varchar', length: 32, nullable: true })
  nasPortId!: string | null;

  @Column({ name: 'nasporttype', type: 'varchar', length: 32, nullable: true })
  nasPortType!: string | null;

  @Column({ name: 'acctstarttime', type: 'datetime', nullable: true })
  acctStartTime!: Date | null;

  @Column({ name: 'acctupdatetime', type: 'datetime', nullable: true })
  acctUpdateTime!: Date | null;

  @Column({ name: 'acctstoptime', type: 'datetime', nullable: true })
  acctStopTime!: Date | null;

  @Column({ name: 'acctinterval', type: 'int', width: 12, nullable: true })
  acctInterval!: number | null;

  @Column({ name: 'acctsessiontime', type: 'int', width: 12, unsigned: true, nullable: true })
  acctSessionTime!: number | null;

  @Column({ name: 'acctauthentic', type: 'varchar', length: 32, nullable: true })
  acctAuthentic!: string | null;

  @Column({ name: 'connectinfo_start', type: 'varchar', length: 128, nullable: true })
  connectInfoStart!: string | null;

  @Column({ name: 'connectinfo_stop', type: 'varchar', length: 128, nullable: true })
  connectInfoStop!: string | null;

  @Column({ name: 'acctinputoctets', type: 'bigint', nullable: true })
  acctInputOctets!: string | null;

  @Column({ name: 'acctoutputoctets', type: 'bigint', nullable: true })
  acctOutputOctets!: string | null;

  @Column({ name: 'calledstationid', type: 'varchar', length: 50, default: '' })
  calledStationId!: string;

  @Column({ name: 'callingstationid', type: 'varchar', length: 50, default: '' })
  callingStationId!: string;

  @Column({ name: 'acctterminatecause', type: 'varchar', length: 32, default: '' })
  acctTerminateCause!: string;

  @Column({ name: 'servicetype', type: 'varchar', length: 32, nullable: true })
  serviceType!: string | null;

  @Column({ name: 'framedprotocol', type: 'varchar', length: 32, nullable: true })
  framedProtocol!: string | null;

  @Column({ name: 'framedipaddress', type: 'varchar', length: 15, default: '' })
  framedIpAddress!: string;

  @Column({ name: 'framedipv6address', type: 'varchar', length: 45, default: '' })
  framedIpv6Address!: string;

  @Column({ name: 'framedipv6prefix', type: 'varchar', length: 45, default: '' })
  framedIpv6Prefix!: string;

  @Column({ name: 'framedinterfaceid', type: 'varchar', length: 44, default: '' })
  framedInterfaceId!: string;

  @Column({ name: 'delegatedipv6prefix', type: 'varchar', length: 45, default: '' })
  delegatedIpv6Prefix!: string;

  @Column({ name: 'class', type: 'varchar', length: 64, nullable: true })
  class!: string | null;

  /**
   * radgraph's addition: the server's time of the row's last change (the database keeps it:
   * ON UPDATE CURRENT_TIMESTAMP on MySQL, triggers on SQLite). acctupdatetime is the NAS's
   * clock; this one decides when a session is stale.
   */
  @Column({
    name: 'rg_seen_at',
    type: 'datetime',
    nullable: true,
    default: () => 'CURRENT_TIMESTAMP',
    onUpdate: 'CURRENT_TIMESTAMP',
  })
  rgSeenAt!: Date | null;
}
