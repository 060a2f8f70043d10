import {
  insertChange,
  mysqlChanged,
  mysqlOpenRowKind,
  mysqlReused,
  RADACCT_CHANGE_TRIGGERS_MYSQL,
  REUSED_CHANGE_KIND,
  STALE_CHANGE_KIND,
} from './radacct-change-triggers';
import type { QueryRunner } from 'typeorm';
import { STALE_SESSION_CAUSE } from '../../sessions/stale/stale-policy';
import {
  grown,
  lastUpdate,
  mysqlLateReport,
  mysqlTakeBack,
  mysqlUpsert,
  reportedAt,
  USAGE_TRIGGERS_MYSQL,
  type UsageTime,
} from './usage-triggers';

/**
 * radacct's triggers on MySQL/MariaDB, one per event: the change feed's queue row
 * (radacct-change-triggers.ts) and the monthly usage rollup (usage-triggers.ts) in one body.
 * They were two triggers per event, and every writer paid for both on every row: each one a
 * stored program run per row, whose conditions are prepared again each time. One body, each
 * counter's growth computed once into a local variable, and the change test nested under
 * `@rg_origin` (not even prepared for radgraph's own rows): MariaDB spent about 15% less CPU
 * on the same radacct writes (tmp A/B of Start, Interim-Update and Stop batches, alternating
 * two databases), with the same rows written:
 * - a change another writer makes (`@rg_origin` unset) queues one rg_radacct_changes row, on
 *   insert, and on update when the row was open and a watched column changed;
 * - every writer's counter growth is added to the user's month, as before.
 * With `stale` (migration StaleSessionChanges1765065600000), a change another writer makes to
 * a row radgraph closed as stale (cause Stale-Session) queues a row of kind 4 too: FreeRADIUS
 * writing an Interim-Update or a Stop for a session the reaper closed, which the change feed
 * reopens or publishes as STOPPED (radacct-change-triggers.ts). Only a stopped row's update
 * tests the cause, so an open row's costs what it did.
 * With `reused` too (migration ReusedRadacctChanges1765497600000), another writer's change
 * that moves a closed row's start past its stop, and more than a minute past its old start,
 * queues a row of kind 5: FreeRADIUS's Start for a new session that reuses the row's
 * acctuniqueid (a NAS that rebooted), which the change feed makes that session. It is tested
 * in the closed-row branch, before the cause: still nothing for an open row, and nothing at all
 * for radgraph's own.
 * With `openReused` (migration OpenReusedRadacctChanges1765584000000), another writer's change
 * that moves an open row's start past its last report (and more than a minute past its old
 * start) is of kind 5 rather than 2: FreeRADIUS's
 * Start for a new session whose NAS lost power and reused the Acct-Session-Id, which the change
 * feed makes that session. Only the kind of a change already queued is tested, its first test
 * the start's change: an Interim-Update pays that one comparison, radgraph's own rows nothing.
 */
const radacctTriggersMysql = (
  at: UsageTime,
  closed: 'none' | 'stale' | 'reused',
  openReused = false,
  lateReport = false,
) => [
  'DROP TRIGGER IF EXISTS `rg_radacct_changes_ai`',
  'DROP TRIGGER IF EXISTS `rg_radacct_usage_ai`',
  'DROP TRIGGER IF EXISTS `rg_radacct_changes_au`',
  'DROP TRIGGER IF EXISTS `rg_radacct_usage_au`',
  'DROP TRIGGER IF EXISTS `rg_radacct_ai`',
  'DROP TRIGGER IF EXISTS `rg_radacct_au`',
  'CREATE TRIGGER `rg_radacct_ai` AFTER INSERT ON `radacct` FOR EACH ROW BEGIN ' +
    'DECLARE up BIGINT DEFAULT COALESCE(NEW.`acctinputoctets`, 0); ' +
    'DECLARE down BIGINT DEFAULT COALESCE(NEW.`acctoutputoctets`, 0); ' +
    `IF @rg_origin IS NULL THEN ${insertChange('IF(NEW.`acctstoptime` IS NULL, 1, 3)')}; END IF; ` +
    `IF up > 0 OR down > 0 THEN ${mysqlUpsert('up', 'down', at('insert'))}; END IF; ` +
    'END',
  'CREATE TRIGGER `rg_radacct_au` AFTER UPDATE ON `radacct` FOR EACH ROW BEGIN ' +
    `DECLARE up BIGINT DEFAULT ${grown('acctinputoctets')}; ` +
    `DECLARE down BIGINT DEFAULT ${grown('acctoutputoctets')}; ` +
    'IF @rg_origin IS NULL THEN ' +
    (closed !== 'none'
      ? 'IF OLD.`acctstoptime` IS NULL THEN ' +
        `IF ${mysqlChanged} THEN ${insertChange(mysqlOpenRowKind(openReused))}; END IF; ` +
        (closed === 'reused'
          ? `ELSEIF ${mysqlReused} THEN ${insertChange(String(REUSED_CHANGE_KIND))}; `
          : '') +
        `ELSEIF OLD.\`acctterminatecause\` = '${STALE_SESSION_CAUSE}' AND (${mysqlChanged})` +
        ` THEN ${insertChange(String(STALE_CHANGE_KIND))}; END IF; `
      : `IF OLD.\`acctstoptime\` IS NULL AND (${mysqlChanged}) THEN ` +
        `${insertChange('IF(NEW.`acctstoptime` IS NULL, 2, 3)')}; END IF; `) +
    'END IF; ' +
    `IF up > 0 OR down > 0 THEN ${mysqlUpsert('up', 'down', at('update'))}; ` +
    (lateReport ? `ELSEIF ${mysqlLateReport} THEN ${mysqlTakeBack}; ` : '') +
    'END IF; END',
];

/** As migration RadacctTriggersMerged1764806400000 made them. */
export const RADACCT_TRIGGERS_MYSQL_MERGED = radacctTriggersMysql(lastUpdate, 'none');
/** A Stop's growth counts in the month of the stop (UsageMonthOfStop1764892800000). */
export const RADACCT_TRIGGERS_MYSQL_BY_STOP = radacctTriggersMysql(reportedAt, 'none');
/** Changes to stale-closed rows are queued too (StaleSessionChanges1765065600000). */
export const RADACCT_TRIGGERS_MYSQL_STALE = radacctTriggersMysql(reportedAt, 'stale');
/** And a later Start that reuses a closed row (ReusedRadacctChanges1765497600000). */
export const RADACCT_TRIGGERS_MYSQL_REUSED = radacctTriggersMysql(reportedAt, 'reused');
/** And one that reuses an open row (OpenReusedRadacctChanges1765584000000). */
export const RADACCT_TRIGGERS_MYSQL_OPEN_REUSED = radacctTriggersMysql(reportedAt, 'reused', true);
/**
 * Today's: an older report written late takes back what it lowered an open row's counters by
 * (LateReportUsage1765760400000, usage-triggers.ts mysqlLateReport). Only a write that grew no
 * counter tests it: an Interim-Update with traffic costs what it did.
 */
export const RADACCT_TRIGGERS_MYSQL = radacctTriggersMysql(reportedAt, 'reused', true, true);

/** Back to the four triggers of before (the migration's down). */
export const RADACCT_TRIGGERS_MYSQL_SEPARATE = [
  'DROP TRIGGER IF EXISTS `rg_radacct_ai`',
  'DROP TRIGGER IF EXISTS `rg_radacct_au`',
  ...RADACCT_CHANGE_TRIGGERS_MYSQL,
  ...USAGE_TRIGGERS_MYSQL,
];

/**
 * Drops and creates radacct's triggers with radacct and the tables they write locked: a
 * FreeRADIUS writing meanwhile waits those few milliseconds instead of writing a row no trigger
 * sees (no usage added, no change-feed row).
 */
export async function replaceRadacctTriggersLocked(
  q: QueryRunner,
  statements: readonly string[],
): Promise<void> {
  await q.query(
    'LOCK TABLES `radacct` WRITE, `rg_radacct_changes` WRITE, `rg_usage_monthly` WRITE',
  );
  try {
    for (const statement of statements) await q.query(statement);
  } finally {
    await q.query('UNLOCK TABLES');
  }
}
