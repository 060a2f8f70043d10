/**
 * The monthly usage rollup (rg_usage_monthly), kept by triggers on radacct: every row a
 * writer inserts adds its counters, every update adds how much they grew, to the month of the
 * row's update time (a session that spans a month boundary splits by its interim updates).
 * Any writer counts: radgraph's accounting listener, FreeRADIUS's rlm_sql, the reaper (which
 * changes no counter). A counter that goes down (a NAS that reset it) adds nothing. Sums
 * saturate at BIGINT's largest value instead of failing the writer's statement (a failed
 * accounting write is never answered, and the NAS would retransmit it for ever).
 */

const MAX = '9223372036854775807';

const when = (row: 'NEW') =>
  `COALESCE(${row}.acctupdatetime, ${row}.acctstoptime, ${row}.acctstarttime)`;

export const mysqlUpsert = (up: string, down: string) =>
  'INSERT INTO `rg_usage_monthly` (`username`, `month`, `upload_bytes`, `download_bytes`) ' +
  `VALUES (NEW.\`username\`, DATE_FORMAT(COALESCE(${when('NEW')}, NOW()), '%Y-%m'), ${up}, ${down}) ` +
  'ON DUPLICATE KEY UPDATE ' +
  ['upload_bytes', 'download_bytes']
    .map((c) => `\`${c}\` = LEAST(\`${c}\`, ${MAX} - VALUES(\`${c}\`)) + VALUES(\`${c}\`)`)
    .join(', ');

export const grown = (c: string) =>
  `GREATEST(CAST(COALESCE(NEW.\`${c}\`, 0) AS SIGNED) - CAST(COALESCE(OLD.\`${c}\`, 0) AS SIGNED), 0)`;

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

const sqliteMonth = `strftime('%Y-%m', COALESCE(${when('NEW')}, datetime('now')))`;
const sqliteGrown = (c: string) => `MAX(COALESCE(NEW."${c}", 0) - COALESCE(OLD."${c}", 0), 0)`;
const sqliteUpsert = (up: string, down: string) =>
  'INSERT INTO "rg_usage_monthly" ("username", "month", "upload_bytes", "download_bytes") ' +
  `VALUES (NEW."username", ${sqliteMonth}, ${up}, ${down}) ` +
  'ON CONFLICT ("username", "month") DO UPDATE SET ' +
  ['upload_bytes', 'download_bytes']
    .map((c) => `"${c}" = MIN("${c}", ${MAX} - excluded."${c}") + excluded."${c}"`)
    .join(', ');

export const USAGE_TRIGGERS_SQLITE = [
  'DROP TRIGGER IF EXISTS "rg_radacct_usage_ai"',
  'DROP TRIGGER IF EXISTS "rg_radacct_usage_au"',
  'CREATE TRIGGER "rg_radacct_usage_ai" AFTER INSERT ON "radacct" ' +
    'WHEN COALESCE(NEW."acctinputoctets", 0) > 0 OR COALESCE(NEW."acctoutputoctets", 0) > 0 BEGIN ' +
    `${sqliteUpsert('COALESCE(NEW."acctinputoctets", 0)', 'COALESCE(NEW."acctoutputoctets", 0)')}; END`,
  'CREATE TRIGGER "rg_radacct_usage_au" AFTER UPDATE OF "acctinputoctets", "acctoutputoctets" ON "radacct" ' +
    `WHEN ${sqliteGrown('acctinputoctets')} > 0 OR ${sqliteGrown('acctoutputoctets')} > 0 BEGIN ` +
    `${sqliteUpsert(sqliteGrown('acctinputoctets'), sqliteGrown('acctoutputoctets'))}; END`,
];
