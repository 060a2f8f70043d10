import { STALE_SESSION_CAUSE } from '../../sessions/stale/stale-policy';

/**
 * The radacct change feed's source: triggers on radacct append one row to
 * rg_radacct_changes for every change another writer (FreeRADIUS's rlm_sql) makes, with what
 * kind of change it was. `seq` is the database's own counter, so the feed does not depend on
 * acctupdatetime (a NAS's clock, skewed or late). The feed consumes the queue: it reads rows in
 * seq order, publishes them, and deletes exactly the rows it read, so a row that commits late
 * (after a higher seq was already read) is still picked up on a later poll.
 *
 * kind: 1 started (a new open row), 2 updated (an open row changed), 3 stopped (the row closed,
 * or was inserted closed), and two the feed may have to reopen the row for:
 * - 4 (since StaleSessionChanges1765065600000): any other change to a row radgraph had closed
 *   as stale (cause Stale-Session): the feed reopens it when the NAS reported the session
 *   after that close, or publishes STOPPED when a Stop wrote its real end;
 * - 5: a Start for a new session in the row, which the feed makes that session (counters
 *   cleared while no Interim-Update came since) and publishes STARTED. FreeRADIUS's Start,
 *   whose INSERT met the row's acctuniqueid (a NAS that rebooted, or lost power, gave the same
 *   user and port an Acct-Session-Id it had given before), falls back to an UPDATE of the start
 *   and update times only, which moves acctstarttime more than a minute on (not a copy of the
 *   row's own Start, whose time can be a second off) and:
 *   - since ReusedRadacctChanges1765497600000, past a closed row's acctstoptime: the row would
 *     stay stopped;
 *   - since OpenReusedRadacctChanges1765584000000, past an open row's last report
 *     (acctupdatetime, else acctstarttime), which would keep the old session's counters and
 *     be published (kind 2) as an update of that session.
 *   The test needs the row's old start, which only the trigger has: the feed, from the row as
 *   it is now, could not tell that Start from a copy of the row's own.
 * Any other change to a row that was already closed is not an event.
 *
 * radgraph's own writers (the accounting listener, the stale-session reaper) publish their
 * events themselves after commit, so their changes must not be queued twice:
 * - MySQL: the session variable @rg_origin is set while they write (inside the transaction
 *   with RadacctOrigin; for the whole life of the accounting listener's own connections, see
 *   radius/accounting/batch-connections.ts) and the triggers skip rows while it is set;
 * - SQLite (one connection, one writer at a time): they delete the queue rows their own
 *   transaction added before it commits (see RadacctOrigin).
 */

/** The columns whose change is worth an event (not rg_seen_at, which follows every change). */
const CHANGED = [
  'acctstarttime',
  'acctupdatetime',
  'acctstoptime',
  'acctsessiontime',
  'acctinputoctets',
  'acctoutputoctets',
  'framedipaddress',
  'acctterminatecause',
];

export const mysqlChanged = CHANGED.map((c) => `NOT (NEW.\`${c}\` <=> OLD.\`${c}\`)`).join(' OR ');
const sqliteChanged = CHANGED.map((c) => `NEW."${c}" IS NOT OLD."${c}"`).join(' OR ');

/** The kind of a change to a row radgraph closed as stale, which the feed may reopen. */
export const STALE_CHANGE_KIND = 4;
/**
 * The kind of a Start that puts a new session in a row, closed or open, which the feed makes
 * that session (see above). Decided here, where the row's old start is known: from the row as
 * it is now, the feed could not tell it from a copy of the row's own Start.
 */
export const REUSED_CHANGE_KIND = 5;

/**
 * This change moved the row's acctstarttime more than 60 s later: a Start for a new session,
 * not a copy of the row's own (whose time, from a NAS without Event-Timestamp, the arrival less
 * Acct-Delay-Time, can come out a second apart). The listener's rule (REUSE_AFTER_SECONDS in
 * radius/accounting/radacct-sql.ts), written out here so that the migrations stay as they ran.
 * An old start the database cannot read (NULL, or a zero date, whose sum is NULL) counts as
 * 1970, as in the listener.
 */
const mysqlStartMovedOn =
  "NEW.`acctstarttime` > COALESCE(OLD.`acctstarttime` + INTERVAL 60 SECOND, '1970-01-01 00:01:00')";
const sqliteStartMovedOn = `NEW."acctstarttime" > COALESCE(datetime(OLD."acctstarttime", '+60 seconds'), '1970-01-01 00:01:00')`;

/**
 * A closed row whose acctstarttime this change moved past its acctstoptime, and more than a
 * minute past its old start: a later Start that reuses the row (see above). A row no writer
 * moves the start of (FreeRADIUS's interim and stop queries, any write to an open row, whose
 * stop is NULL) never meets it.
 */
export const mysqlReused = `NEW.\`acctstarttime\` > NEW.\`acctstoptime\` AND ${mysqlStartMovedOn}`;
const sqliteReused = `NEW."acctstarttime" > NEW."acctstoptime" AND ${sqliteStartMovedOn}`;

/**
 * An open row whose acctstarttime this change moved past its last report, and more than a
 * minute past its old start: a later Start that reuses the row (see above). The row is open before and after (the caller's branch). The
 * first test is the start's change, so an Interim-Update (which never moves the start) pays
 * one comparison and no more.
 */
const mysqlOpenReused =
  'NOT (NEW.`acctstarttime` <=> OLD.`acctstarttime`) AND ' +
  `NEW.\`acctstarttime\` > COALESCE(OLD.\`acctupdatetime\`, OLD.\`acctstarttime\`) AND ${mysqlStartMovedOn}`;
const sqliteOpenReused =
  'NEW."acctstarttime" IS NOT OLD."acctstarttime" AND ' +
  `NEW."acctstarttime" > COALESCE(OLD."acctupdatetime", OLD."acctstarttime") AND ${sqliteStartMovedOn}`;

/**
 * The kind of another writer's change to an open row (MySQL): 3 when it closed it, else 2,
 * or with `openReused` (OpenReusedRadacctChanges1765584000000) 5 for a later Start's reuse.
 */
export const mysqlOpenRowKind = (openReused: boolean) =>
  openReused
    ? `IF(NEW.\`acctstoptime\` IS NULL, IF(${mysqlOpenReused}, ${REUSED_CHANGE_KIND}, 2), 3)`
    : 'IF(NEW.`acctstoptime` IS NULL, 2, 3)';

export const insertChange = (kind: string) =>
  `INSERT INTO \`rg_radacct_changes\` (\`radacctid\`, \`kind\`) VALUES (NEW.\`radacctid\`, ${kind})`;

/**
 * The triggers as migration RadacctChangeTriggerGuard1764115200000 made them (since
 * RadacctTriggersMerged1764806400000, radacct-triggers.ts has them and the usage triggers as
 * one trigger per event): the body is an IF, so a row of radgraph's own (@rg_origin
 * set) runs no statement at all (an INSERT ... SELECT ... WHERE @rg_origin IS NULL that
 * inserts nothing still costs a statement per row: about 3.6 µs of MariaDB's time, 13% of
 * its work on the listener's batches).
 */
export const RADACCT_CHANGE_TRIGGERS_MYSQL = [
  'DROP TRIGGER IF EXISTS `rg_radacct_changes_ai`',
  'DROP TRIGGER IF EXISTS `rg_radacct_changes_au`',
  'CREATE TRIGGER `rg_radacct_changes_ai` AFTER INSERT ON `radacct` FOR EACH ROW ' +
    `IF @rg_origin IS NULL THEN ${insertChange('IF(NEW.`acctstoptime` IS NULL, 1, 3)')}; END IF`,
  'CREATE TRIGGER `rg_radacct_changes_au` AFTER UPDATE ON `radacct` FOR EACH ROW ' +
    `IF @rg_origin IS NULL AND OLD.\`acctstoptime\` IS NULL AND (${mysqlChanged}) THEN ` +
    `${insertChange('IF(NEW.`acctstoptime` IS NULL, 2, 3)')}; END IF`,
];

/** The triggers as migration LiveSessions1763942400000 made them (kept as they were). */
export const RADACCT_CHANGE_TRIGGERS_MYSQL_V1 = [
  'DROP TRIGGER IF EXISTS `rg_radacct_changes_ai`',
  'DROP TRIGGER IF EXISTS `rg_radacct_changes_au`',
  'CREATE TRIGGER `rg_radacct_changes_ai` AFTER INSERT ON `radacct` FOR EACH ROW ' +
    'INSERT INTO `rg_radacct_changes` (`radacctid`, `kind`) ' +
    'SELECT NEW.`radacctid`, IF(NEW.`acctstoptime` IS NULL, 1, 3) FROM DUAL WHERE @rg_origin IS NULL',
  'CREATE TRIGGER `rg_radacct_changes_au` AFTER UPDATE ON `radacct` FOR EACH ROW ' +
    'INSERT INTO `rg_radacct_changes` (`radacctid`, `kind`) ' +
    'SELECT NEW.`radacctid`, IF(NEW.`acctstoptime` IS NULL, 2, 3) FROM DUAL ' +
    `WHERE @rg_origin IS NULL AND OLD.\`acctstoptime\` IS NULL AND (${mysqlChanged})`,
];

export const RADACCT_CHANGE_TRIGGERS_SQLITE = [
  'DROP TRIGGER IF EXISTS "rg_radacct_changes_ai"',
  'DROP TRIGGER IF EXISTS "rg_radacct_changes_au"',
  'DROP TRIGGER IF EXISTS "rg_radacct_seen_au"',
  // SQLite cannot ADD COLUMN with a non-constant default, so rg_seen_at is kept by triggers.
  'CREATE TRIGGER "rg_radacct_changes_ai" AFTER INSERT ON "radacct" BEGIN ' +
    `UPDATE "radacct" SET "rg_seen_at" = datetime('now') WHERE "radacctid" = NEW."radacctid"; ` +
    'INSERT INTO "rg_radacct_changes" ("radacctid", "kind") ' +
    'VALUES (NEW."radacctid", CASE WHEN NEW."acctstoptime" IS NULL THEN 1 ELSE 3 END); END',
  `CREATE TRIGGER "rg_radacct_seen_au" AFTER UPDATE ON "radacct" WHEN ${sqliteChanged} BEGIN ` +
    `UPDATE "radacct" SET "rg_seen_at" = datetime('now') WHERE "radacctid" = NEW."radacctid"; END`,
  openRowChangeTriggerSqlite(false),
];

/**
 * SQLite's queue row for another writer's change to an open row: 3 when it closed it, else 2,
 * or with `openReused` (OpenReusedRadacctChanges1765584000000) 5 for a later Start's reuse (see
 * above). An Interim-Update's row stops at the start's test.
 */
function openRowChangeTriggerSqlite(openReused: boolean): string {
  const kind = openReused
    ? `CASE WHEN NEW."acctstoptime" IS NOT NULL THEN 3 WHEN ${sqliteOpenReused} THEN ${REUSED_CHANGE_KIND} ELSE 2 END`
    : 'CASE WHEN NEW."acctstoptime" IS NULL THEN 2 ELSE 3 END';
  return (
    `CREATE TRIGGER "rg_radacct_changes_au" AFTER UPDATE ON "radacct" WHEN OLD."acctstoptime" IS NULL AND (${sqliteChanged}) BEGIN ` +
    `INSERT INTO "rg_radacct_changes" ("radacctid", "kind") VALUES (NEW."radacctid", ${kind}); END`
  );
}

/** The open row's trigger as LiveSessions1763942400000 made it (the migration's down). */
export const RADACCT_OPEN_CHANGE_TRIGGER_SQLITE = [
  'DROP TRIGGER IF EXISTS "rg_radacct_changes_au"',
  openRowChangeTriggerSqlite(false),
];
/** Today's: a later Start that reuses an open row is kind 5 (OpenReusedRadacctChanges1765584000000). */
export const RADACCT_OPEN_REUSED_CHANGE_TRIGGER_SQLITE = [
  'DROP TRIGGER IF EXISTS "rg_radacct_changes_au"',
  openRowChangeTriggerSqlite(true),
];

/**
 * SQLite's queue row of kind 4, or 5 (see above): a trigger of its own, beside those above. Every
 * writer's update evaluates its WHEN (radgraph's own queue rows are deleted before its
 * transaction commits, RadacctOrigin); an open row's stops at its first test.
 */
const closedChangeTriggerSqlite = (reused: boolean) => [
  'DROP TRIGGER IF EXISTS "rg_radacct_stale_changes_au"',
  'CREATE TRIGGER "rg_radacct_stale_changes_au" AFTER UPDATE ON "radacct" ' +
    `WHEN OLD."acctstoptime" IS NOT NULL AND (OLD."acctterminatecause" = '${STALE_SESSION_CAUSE}' AND (${sqliteChanged})` +
    (reused ? ` OR ${sqliteReused}` : '') +
    ') BEGIN ' +
    'INSERT INTO "rg_radacct_changes" ("radacctid", "kind") VALUES (NEW."radacctid", ' +
    (reused
      ? `CASE WHEN ${sqliteReused} THEN ${REUSED_CHANGE_KIND} ELSE ${STALE_CHANGE_KIND} END`
      : String(STALE_CHANGE_KIND)) +
    '); END',
];

/** Changes to rows closed as stale, as StaleSessionChanges1765065600000 made it. */
export const RADACCT_STALE_CHANGE_TRIGGER_SQLITE = closedChangeTriggerSqlite(false);
/** Today's: and a later Start that reuses a closed row (ReusedRadacctChanges1765497600000). */
export const RADACCT_CLOSED_CHANGE_TRIGGER_SQLITE = closedChangeTriggerSqlite(true);
