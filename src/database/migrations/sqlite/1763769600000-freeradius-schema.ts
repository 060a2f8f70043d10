import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * FreeRADIUS's tables for the embedded SQLite database: the columns of FreeRADIUS 3.2's
 * mysql schema.sql, with the index names of its sqlite schema.sql (SQLite index names are
 * global to the database). `IF NOT EXISTS` adopts a database FreeRADIUS made first.
 */
export const FREERADIUS_SQLITE_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS "radacct" ("radacctid" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "acctsessionid" varchar(64) NOT NULL DEFAULT (''), "acctuniqueid" varchar(32) NOT NULL DEFAULT (''), "username" varchar(64) NOT NULL DEFAULT (''), "realm" varchar(64) DEFAULT (''), "nasipaddress" varchar(15) NOT NULL DEFAULT (''), "nasportid" varchar(32), "nasporttype" varchar(32), "acctstarttime" datetime, "acctupdatetime" datetime, "acctstoptime" datetime, "acctinterval" integer, "acctsessiontime" integer, "acctauthentic" varchar(32), "connectinfo_start" varchar(128), "connectinfo_stop" varchar(128), "acctinputoctets" bigint, "acctoutputoctets" bigint, "calledstationid" varchar(50) NOT NULL DEFAULT (''), "callingstationid" varchar(50) NOT NULL DEFAULT (''), "acctterminatecause" varchar(32) NOT NULL DEFAULT (''), "servicetype" varchar(32), "framedprotocol" varchar(32), "framedipaddress" varchar(15) NOT NULL DEFAULT (''), "framedipv6address" varchar(45) NOT NULL DEFAULT (''), "framedipv6prefix" varchar(45) NOT NULL DEFAULT (''), "framedinterfaceid" varchar(44) NOT NULL DEFAULT (''), "delegatedipv6prefix" varchar(45) NOT NULL DEFAULT (''), "class" varchar(64))`,
  `CREATE INDEX IF NOT EXISTS "class" ON "radacct" ("class")`,
  `CREATE INDEX IF NOT EXISTS "nasipaddress" ON "radacct" ("nasipaddress")`,
  `CREATE INDEX IF NOT EXISTS "acctstoptime" ON "radacct" ("acctstoptime")`,
  `CREATE INDEX IF NOT EXISTS "acctinterval" ON "radacct" ("acctinterval")`,
  `CREATE INDEX IF NOT EXISTS "acctstarttime" ON "radacct" ("acctstarttime")`,
  `CREATE INDEX IF NOT EXISTS "acctsessiontime" ON "radacct" ("acctsessiontime")`,
  `CREATE INDEX IF NOT EXISTS "acctsessionid" ON "radacct" ("acctsessionid")`,
  `CREATE INDEX IF NOT EXISTS "delegatedipv6prefix" ON "radacct" ("delegatedipv6prefix")`,
  `CREATE INDEX IF NOT EXISTS "framedinterfaceid" ON "radacct" ("framedinterfaceid")`,
  `CREATE INDEX IF NOT EXISTS "framedipv6prefix" ON "radacct" ("framedipv6prefix")`,
  `CREATE INDEX IF NOT EXISTS "framedipv6address" ON "radacct" ("framedipv6address")`,
  `CREATE INDEX IF NOT EXISTS "framedipaddress" ON "radacct" ("framedipaddress")`,
  `CREATE INDEX IF NOT EXISTS "username" ON "radacct" ("username")`,
  `CREATE UNIQUE INDEX IF NOT EXISTS "acctuniqueid" ON "radacct" ("acctuniqueid")`,
  `CREATE TABLE IF NOT EXISTS "radcheck" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "attribute" varchar(64) NOT NULL DEFAULT (''), "value" varchar(253) NOT NULL DEFAULT (''), "username" varchar(64) NOT NULL DEFAULT (''), "op" char(2) NOT NULL DEFAULT ('=='))`,
  `CREATE INDEX IF NOT EXISTS "check_username" ON "radcheck" ("username")`,
  `CREATE TABLE IF NOT EXISTS "radgroupcheck" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "attribute" varchar(64) NOT NULL DEFAULT (''), "value" varchar(253) NOT NULL DEFAULT (''), "groupname" varchar(64) NOT NULL DEFAULT (''), "op" char(2) NOT NULL DEFAULT ('=='))`,
  `CREATE INDEX IF NOT EXISTS "check_groupname" ON "radgroupcheck" ("groupname")`,
  `CREATE TABLE IF NOT EXISTS "radgroupreply" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "attribute" varchar(64) NOT NULL DEFAULT (''), "value" varchar(253) NOT NULL DEFAULT (''), "groupname" varchar(64) NOT NULL DEFAULT (''), "op" char(2) NOT NULL DEFAULT ('='))`,
  `CREATE INDEX IF NOT EXISTS "reply_groupname" ON "radgroupreply" ("groupname")`,
  `CREATE TABLE IF NOT EXISTS "radreply" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "attribute" varchar(64) NOT NULL DEFAULT (''), "value" varchar(253) NOT NULL DEFAULT (''), "username" varchar(64) NOT NULL DEFAULT (''), "op" char(2) NOT NULL DEFAULT ('='))`,
  `CREATE INDEX IF NOT EXISTS "reply_username" ON "radreply" ("username")`,
  `CREATE TABLE IF NOT EXISTS "radusergroup" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "username" varchar(64) NOT NULL DEFAULT (''), "groupname" varchar(64) NOT NULL DEFAULT (''), "priority" integer NOT NULL DEFAULT (1))`,
  `CREATE INDEX IF NOT EXISTS "usergroup_username" ON "radusergroup" ("username")`,
  `CREATE TABLE IF NOT EXISTS "radpostauth" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "username" varchar(64) NOT NULL DEFAULT (''), "pass" varchar(64) NOT NULL DEFAULT (''), "reply" varchar(32) NOT NULL DEFAULT (''), "authdate" timestamp(6) NOT NULL DEFAULT (datetime('now')), "class" varchar(64))`,
  `CREATE INDEX IF NOT EXISTS "radpostauth_class" ON "radpostauth" ("class")`,
  `CREATE INDEX IF NOT EXISTS "radpostauth_username" ON "radpostauth" ("username")`,
  `CREATE TABLE IF NOT EXISTS "nas" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "nasname" varchar(128) NOT NULL, "shortname" varchar(32), "type" varchar(30) DEFAULT ('other'), "ports" integer, "secret" varchar(60) NOT NULL DEFAULT ('secret'), "server" varchar(64), "community" varchar(50), "description" varchar(200) DEFAULT ('RADIUS Client'))`,
  `CREATE INDEX IF NOT EXISTS "nasname" ON "nas" ("nasname")`,
  `CREATE TABLE IF NOT EXISTS "nasreload" ("nasipaddress" varchar(15) PRIMARY KEY NOT NULL, "reloadtime" datetime NOT NULL)`,
];

export class FreeradiusSchema1763769600000 implements MigrationInterface {
  name = 'FreeradiusSchema1763769600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of FREERADIUS_SQLITE_SCHEMA) await queryRunner.query(statement);
  }

  /** Deliberately empty, as on MySQL: reverting radgraph never drops FreeRADIUS's data. */
  public async down(): Promise<void> {}
}
