/**
 * The monthly usage rollup (rg_usage_monthly), kept by triggers on radacct: every row a
 * writer inserts adds its counters, every update adds how much they grew, to the month of the
 * time the growth was reported (a session that spans a month boundary splits by its interim
 * updates): the row's stop time once it stopped, else its update time (today's triggers, see
 * `reportedAt`; the first ones used the update time first, see `lastUpdate`).
 * Any writer counts: radgraph's accounting listener, FreeRADIUS's rlm_sql, the reaper (which
 * changes no counter). A counter that goes down (a NAS that reset it) adds nothing. Sums
 * saturate at BIGINT's largest value instead of failing the writer's statement (a failed
 * accounting write is never answered, and the NAS would retransmit it for ever).
 */

const MAX = '9223372036854775807';

/** When a row's growth happened, as the triggers of before 2026-12 had it (on insert and update). */
export const lastUpdate = () => 'COALESCE(NEW.acctupdatetime, NEW.acctstoptime, NEW.acctstarttime)';

/**
 * Today's: a Stop's growth counts in the month of the stop. Neither FreeRADIUS's stop query nor
 * radgraph's sets acctupdatetime, which stays at the last interim: by that, the traffic of a
 * session stopped on the 1st after an interim on the 31st (or of a whole session without
 * interims, by its start) went to the month before. On update, only the write that sets or
 * moves the stop time is dated by it: a later write to a stopped row (FreeRADIUS's interim query
 * also updates stopped rows, e.g. one the reaper closed at its last update) goes by its update
 * time, as before.
 */
export const reportedAt = (event: 'insert' | 'update') =>
  event === 'insert'
    ? 'COALESCE(NEW.acctstoptime, NEW.acctupdatetime, NEW.acctstarttime)'
    : 'CASE WHEN NEW.acctstoptime IS NOT NULL AND (OLD.acctstoptime IS NULL OR NEW.acctstoptime <> OLD.acctstoptime) ' +
      `THEN NEW.acctstoptime ELSE ${lastUpdate()} END`;

export type UsageTime = typeof reportedAt;

/** The upsert of a row's growth (`up`, `down`) into the month of `time`. */
export const mysqlUpsert = (up: string, down: string, time: string = lastUpdate()) =>
  'INSERT INTO `rg_usage_monthly` (`username`, `month`, `upload_bytes`, `download_bytes`) ' +
  `VALUES (NEW.\`username\`, DATE_FORMAT(COALESCE(${time}, NOW()), '%Y-%m'), ${up}, ${down}) ` +
  'ON DUPLICATE KEY UPDATE ' +
  ['upload_bytes', 'download_bytes']
    .map((c) => `\`${c}\` = LEAST(\`${c}\`, ${MAX} - VALUES(\`${c}\`)) + VALUES(\`${c}\`)`)
    .join(', ');

/** How much a counter went up (`a` NEW, `b` OLD) or down (`a` OLD, `b` NEW) in this write, else 0. */
const mysqlDifference = (a: 'NEW' | 'OLD', b: 'NEW' | 'OLD') => (c: string) =>
  `GREATEST(CAST(COALESCE(${a}.\`${c}\`, 0) AS SIGNED) - CAST(COALESCE(${b}.\`${c}\`, 0) AS SIGNED), 0)`;
export const grown = mysqlDifference('NEW', 'OLD');
const mysqlShrunk = mysqlDifference('OLD', 'NEW');

/** The rollup's columns and the radacct counters they sum. */
const ROLLUP_COUNTERS = [
  ['upload_bytes', 'acctinputoctets'],
  ['download_bytes', 'acctoutputoctets'],
] as const;

/**
 * An older report written late (migration LateReportUsage1765760400000): FreeRADIUS's interim
 * query writes whatever counters and update time a packet has, so an Interim-Update that
 * arrives after a newer one (a retransmit, another FreeRADIUS server's backlog) lowers an open
 * row's counters, and the next report's growth was then counted from there again: the traffic
 * between the two reports counted twice. Such a write (an open row, its update time moved back)
 * takes back from the month of the row's last report what it lowered the counters by, so that
 * the next report's growth adds it again once. A counter that goes down at a later time (a NAS
 * that reset it) still adds nothing and takes nothing back.
 */
export const mysqlLateReport =
  'OLD.`acctstoptime` IS NULL AND NEW.`acctupdatetime` < OLD.`acctupdatetime`';

/** The take-back of a late report (mysqlLateReport), never below 0. */
export const mysqlTakeBack =
  'UPDATE `rg_usage_monthly` SET ' +
  ROLLUP_COUNTERS.map(([c, r]) => `\`${c}\` = \`${c}\` - LEAST(\`${c}\`, ${mysqlShrunk(r)})`).join(
    ', ',
  ) +
  " WHERE `username` = NEW.`username` AND `month` = DATE_FORMAT(OLD.`acctupdatetime`, '%Y-%m')";

/** As migration UsageMonthly1764374400000 made them (radacct-triggers.ts has today's). */
export const USAGE_TRIGGERS_MYSQL = [
  'DROP TRIGGER IF EXISTS `rg_radacct_usage_ai`',
  'DROP TRIGGER IF EXISTS `rg_radacct_usage_au`',
  'CREATE TRIGGER `rg_radacct_usage_ai` AFTER INSERT ON `radacct` FOR EACH ROW ' +
    'IF COALESCE(NEW.`acctinputoctets`, 0) > 0 OR COALESCE(NEW.`acctoutputoctets`, 0) > 0 THEN ' +
    `${mysqlUpsert('COALESCE(NEW.`acctinputoctets`, 0)', 'COALESCE(NEW.`acctoutputoctets`, 0)')}; END IF`,
  'CREATE TRIGGER `rg_radacct_usage_au` AFTER UPDATE ON `radacct` FOR EACH ROW ' +
    `IF ${grown('acctinputoctets')} > 0 OR ${grown('acctoutputoctets')} > 0 THEN ` +
    `${mysqlUpsert(grown('acctinputoctets'), grown('acctoutputoctets'))}; END IF`,
];

const sqliteMonth = (time: string) => `strftime('%Y-%m', COALESCE(${time}, datetime('now')))`;
const sqliteDifference = (a: 'NEW' | 'OLD', b: 'NEW' | 'OLD') => (c: string) =>
  `MAX(COALESCE(${a}."${c}", 0) - COALESCE(${b}."${c}", 0), 0)`;
const sqliteGrown = sqliteDifference('NEW', 'OLD');
const sqliteShrunk = sqliteDifference('OLD', 'NEW');
const sqliteUpsert = (up: string, down: string, time: string) =>
  'INSERT INTO "rg_usage_monthly" ("username", "month", "upload_bytes", "download_bytes") ' +
  `VALUES (NEW."username", ${sqliteMonth(time)}, ${up}, ${down}) ` +
  'ON CONFLICT ("username", "month") DO UPDATE SET ' +
  ['upload_bytes', 'download_bytes']
    .map((c) => `"${c}" = MIN("${c}", ${MAX} - excluded."${c}") + excluded."${c}"`)
    .join(', ');

const usageTriggersSqlite = (at: UsageTime) => [
  'DROP TRIGGER IF EXISTS "rg_radacct_usage_ai"',
  'DROP TRIGGER IF EXISTS "rg_radacct_usage_au"',
  'CREATE TRIGGER "rg_radacct_usage_ai" AFTER INSERT ON "radacct" ' +
    'WHEN COALESCE(NEW."acctinputoctets", 0) > 0 OR COALESCE(NEW."acctoutputoctets", 0) > 0 BEGIN ' +
    `${sqliteUpsert('COALESCE(NEW."acctinputoctets", 0)', 'COALESCE(NEW."acctoutputoctets", 0)', at('insert'))}; END`,
  'CREATE TRIGGER "rg_radacct_usage_au" AFTER UPDATE OF "acctinputoctets", "acctoutputoctets" ON "radacct" ' +
    `WHEN ${sqliteGrown('acctinputoctets')} > 0 OR ${sqliteGrown('acctoutputoctets')} > 0 BEGIN ` +
    `${sqliteUpsert(sqliteGrown('acctinputoctets'), sqliteGrown('acctoutputoctets'), at('update'))}; END`,
];

/** The take-back of a late report on SQLite (see mysqlLateReport): a trigger of its own. */
export const USAGE_LATE_TRIGGER_SQLITE = [
  'DROP TRIGGER IF EXISTS "rg_radacct_usage_late_au"',
  'CREATE TRIGGER "rg_radacct_usage_late_au" AFTER UPDATE OF "acctinputoctets", "acctoutputoctets" ON "radacct" ' +
    'WHEN OLD."acctstoptime" IS NULL AND NEW."acctupdatetime" < OLD."acctupdatetime" BEGIN ' +
    'UPDATE "rg_usage_monthly" SET ' +
    ROLLUP_COUNTERS.map(([c, r]) => `"${c}" = "${c}" - MIN("${c}", ${sqliteShrunk(r)})`).join(
      ', ',
    ) +
    ` WHERE "username" = NEW."username" AND "month" = strftime('%Y-%m', OLD."acctupdatetime"); END`,
];

/** As migration UsageMonthly1764374400000 made them. */
export const USAGE_TRIGGERS_SQLITE = usageTriggersSqlite(lastUpdate);
/** Today's (migration UsageMonthOfStop1764892800000). */
export const USAGE_TRIGGERS_SQLITE_BY_REPORT = usageTriggersSqlite(reportedAt);
