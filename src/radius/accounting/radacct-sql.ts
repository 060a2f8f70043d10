import type { AccountingRecord } from './accounting-request';
import { placeholders } from '../../common/sql/in-list';

/**
 * The radacct statements of FreeRADIUS 3.2's queries.conf (mods-config/sql/main/mysql), as
 * multi-row upserts on acctuniqueid, for MySQL/MariaDB and SQLite.
 *
 * FreeRADIUS tries queries in turn: Start is an INSERT, else an UPDATE; Interim-Update and Stop
 * are an UPDATE by acctuniqueid, else an INSERT. One `INSERT ... ON DUPLICATE KEY UPDATE` (ON
 * CONFLICT on SQLite) per packet kind writes what that pair writes, for a whole batch at once.
 * Where radgraph deliberately differs (documented in radius-config/README.md):
 * - the octet counters never go down (GREATEST of the stored and the reported value);
 * - an Interim-Update for a session that has stopped, or older (by Event-Timestamp) than the
 *   last update, changes nothing: FreeRADIUS's interim query has no such condition and
 *   overwrites a stopped row's counters, session time and update time. Except in a row whose
 *   Start came after its Stop (a NAS reused the Acct-Session-Id after a reboot): that is a new
 *   session, whose Interim-Update and Stop write their counters as FreeRADIUS does;
 * - a string longer than its column is cut to fit (see WIDTH), where FreeRADIUS's INSERT fails
 *   on a strict MySQL and the packet goes unanswered;
 * - Accounting-On/Off also records nasreload (the stock queries.conf has that query disabled).
 * Everything else must be what FreeRADIUS writes: the differential e2e test
 * (test/e2e/radacct-differential.e2e-spec.ts) sends the same packets to both and compares.
 *
 * MySQL applies ON DUPLICATE KEY assignments left to right, each seeing the ones before;
 * SQLite's see the old row. Every assignment below that reads a column comes before the one
 * that changes it, so both give the same result.
 */
export interface RadacctDialect {
  kind: 'mysql' | 'sqlite';
  /**
   * A derived table of rows: the first a SELECT that names the columns, the others tuples.
   * MariaDB takes the tuples as one table value constructor (`UNION ALL VALUES (...), ...`),
   * which it plans once; a UNION ALL of SELECTs is one query block per row to parse and plan.
   */
  rows: (first: string, tuples: string[]) => string;
  /** A Unix-seconds parameter as a DATETIME, in the session's time zone as FROM_UNIXTIME. */
  fromUnix: (param: string) => string;
  /** A 64-bit counter parameter (a decimal string) as an integer, not text or a double. */
  bigint: (param: string) => string;
  unix: (expr: string) => string;
  /** The incoming row's value of a column in the upsert's update part. */
  incoming: (column: string) => string;
  greatest: (a: string, b: string) => string;
  iff: (cond: string, a: string, b: string) => string;
  upsert: (
    table: string,
    columns: string[],
    rows: string[],
    conflict: string,
    set: string[],
  ) => string;
  /** Locking read of the rows an Accounting-On/Off closes (SQLite has one writer anyway). */
  forUpdate: string;
}

const unionOfSelects = (first: string, tuples: string[]) =>
  [first, ...tuples.map((t) => `SELECT ${t}`)].join(' UNION ALL ');

export const MYSQL_DIALECT: RadacctDialect = {
  kind: 'mysql',
  rows: unionOfSelects,
  fromUnix: (p) => `FROM_UNIXTIME(${p})`,
  bigint: (p) => `CAST(${p} AS SIGNED)`,
  unix: (e) => `UNIX_TIMESTAMP(${e})`,
  incoming: (c) => `VALUES(${c})`,
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  iff: (c, a, b) => `IF(${c}, ${a}, ${b})`,
  upsert: (table, columns, rows, _conflict, set) =>
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.join(', ')} ON DUPLICATE KEY UPDATE ${set.join(', ')}`,
  forUpdate: ' FOR UPDATE',
};

export const MARIADB_DIALECT: RadacctDialect = {
  ...MYSQL_DIALECT,
  rows: (first, tuples) =>
    tuples.length ? `${first} UNION ALL VALUES ${tuples.map((t) => `(${t})`).join(', ')}` : first,
};

export const SQLITE_DIALECT: RadacctDialect = {
  kind: 'sqlite',
  rows: unionOfSelects,
  fromUnix: (p) => `datetime(${p}, 'unixepoch')`,
  bigint: (p) => `CAST(${p} AS INTEGER)`,
  unix: (e) => `CAST(strftime('%s', ${e}) AS INTEGER)`,
  incoming: (c) => `excluded.${c}`,
  greatest: (a, b) => `MAX(${a}, ${b})`,
  iff: (c, a, b) => `CASE WHEN ${c} THEN ${a} ELSE ${b} END`,
  upsert: (table, columns, rows, conflict, set) =>
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.join(', ')} ON CONFLICT(${conflict}) DO UPDATE SET ${set.join(', ')}`,
  forUpdate: '',
};

/** queries.conf's column_list, in its order. */
export const RADACCT_COLUMNS = [
  'acctsessionid',
  'acctuniqueid',
  'username',
  'realm',
  'nasipaddress',
  'nasportid',
  'nasporttype',
  'acctstarttime',
  'acctupdatetime',
  'acctstoptime',
  'acctsessiontime',
  'acctauthentic',
  'connectinfo_start',
  'connectinfo_stop',
  'acctinputoctets',
  'acctoutputoctets',
  'calledstationid',
  'callingstationid',
  'acctterminatecause',
  'servicetype',
  'framedprotocol',
  'framedipaddress',
  'framedipv6address',
  'framedipv6prefix',
  'framedinterfaceid',
  'delegatedipv6prefix',
] as const;

/**
 * The widths of radacct's text columns (schema.sql). A longer value is cut to fit: a strict
 * MySQL would refuse the whole batch, and FreeRADIUS would never get an answer for that packet.
 */
const WIDTH: Record<string, number> = {
  acctsessionid: 64,
  acctuniqueid: 32,
  username: 64,
  realm: 64,
  nasipaddress: 15,
  nasportid: 32,
  nasporttype: 32,
  acctauthentic: 32,
  connectinfo_start: 128,
  connectinfo_stop: 128,
  calledstationid: 50,
  callingstationid: 50,
  acctterminatecause: 32,
  servicetype: 32,
  framedprotocol: 32,
  framedipaddress: 15,
  framedipv6address: 45,
  framedipv6prefix: 45,
  framedinterfaceid: 44,
  delegatedipv6prefix: 45,
};

const fit = (column: string, value: string): string => {
  const width = WIDTH[column];
  if (width === undefined || value.length <= width) return value;
  return Array.from(value).slice(0, width).join('');
};

export type SessionStatus = 'Start' | 'Interim-Update' | 'Stop';

export interface Statement {
  sql: string;
  params: unknown[];
}

/** How one column of queries.conf's INSERT is filled: its SQL, and its parameter if any. */
interface Cell {
  sql: string;
  value?: (r: AccountingRecord) => unknown;
}

/**
 * The start of a session as queries.conf's interim and stop INSERTs compute it. A session time
 * longer than the event's epoch seconds (a NAS whose clock is near 1970, or a broken one)
 * gives a start before 1970, which FROM_UNIXTIME turns into NULL: so does radgraph.
 */
const began = (r: AccountingRecord) => {
  const start = r.eventTime - (r.sessionTime ?? 0);
  return start < 0 ? null : start;
};

/**
 * Each status type's VALUES tuple, column by column, as queries.conf's INSERT for it. The
 * same for every packet of a type, so a batch's SQL is this tuple repeated and only the
 * parameters differ.
 */
function cellsOf(d: RadacctDialect, status: SessionStatus): Cell[] {
  const p = (value: (r: AccountingRecord) => unknown): Cell => ({ sql: '?', value });
  const constant = (value: unknown): Cell => ({ sql: '?', value: () => value });
  const time = (value: (r: AccountingRecord) => number | null): Cell => ({
    sql: d.fromUnix('?'),
    value,
  });
  const counter = (value: (r: AccountingRecord) => string): Cell => ({ sql: d.bigint('?'), value });
  const nul: Cell = { sql: 'NULL' };
  const common: Record<string, Cell> = {
    acctsessionid: p((r) => r.acctSessionId),
    acctuniqueid: p((r) => r.acctUniqueId),
    username: p((r) => r.username),
    realm: p((r) => r.realm),
    nasipaddress: p((r) => r.nasIpAddress),
    nasportid: p((r) => r.nasPortId),
    nasporttype: p((r) => r.nasPortType),
    acctauthentic: p((r) => r.acctAuthentic),
    calledstationid: p((r) => r.calledStationId),
    callingstationid: p((r) => r.callingStationId),
    servicetype: p((r) => r.serviceType),
    framedprotocol: p((r) => r.framedProtocol),
    framedipaddress: p((r) => r.framedIpAddress),
    framedipv6address: p((r) => r.framedIpv6Address),
    framedipv6prefix: p((r) => r.framedIpv6Prefix),
    framedinterfaceid: p((r) => r.framedInterfaceId),
    delegatedipv6prefix: p((r) => r.delegatedIpv6Prefix),
  };
  const byStatus: Record<SessionStatus, Record<string, Cell>> = {
    Start: {
      acctstarttime: time((r) => r.eventTime),
      acctupdatetime: time((r) => r.eventTime),
      acctstoptime: nul,
      acctsessiontime: constant(0),
      connectinfo_start: p((r) => r.connectInfo),
      connectinfo_stop: constant(''),
      acctinputoctets: constant(0),
      acctoutputoctets: constant(0),
      acctterminatecause: constant(''),
    },
    'Interim-Update': {
      acctstarttime: time(began),
      acctupdatetime: time((r) => r.eventTime),
      acctstoptime: nul,
      acctsessiontime: p((r) => r.sessionTime),
      connectinfo_start: p((r) => r.connectInfo),
      connectinfo_stop: constant(''),
      acctinputoctets: counter((r) => r.inputOctets),
      acctoutputoctets: counter((r) => r.outputOctets),
      acctterminatecause: constant(''),
    },
    Stop: {
      acctstarttime: time(began),
      acctupdatetime: time((r) => r.eventTime),
      acctstoptime: time((r) => r.eventTime),
      acctsessiontime: p((r) => r.sessionTime),
      connectinfo_start: constant(''),
      connectinfo_stop: p((r) => r.connectInfo),
      acctinputoctets: counter((r) => r.inputOctets),
      acctoutputoctets: counter((r) => r.outputOctets),
      acctterminatecause: p((r) => r.terminateCause),
    },
  };
  const cells = { ...common, ...byStatus[status] };
  return RADACCT_COLUMNS.map((column) => {
    const cell = cells[column];
    const value = cell.value;
    if (!value) return cell;
    // Strings are cut to the column's width (see WIDTH).
    return {
      sql: cell.sql,
      value: (r: AccountingRecord) => {
        const v = value(r);
        return typeof v === 'string' ? fit(column, v) : v;
      },
    };
  });
}

interface RowPlan {
  /** "(?, ?, FROM_UNIXTIME(?), NULL, ...)" */
  tuple: string;
  values: Array<(r: AccountingRecord) => unknown>;
}

const PLANS = new Map<string, RowPlan>();

function planOf(d: RadacctDialect, status: SessionStatus): RowPlan {
  const key = `${d.kind}:${status}`;
  let plan = PLANS.get(key);
  if (!plan) {
    const cells = cellsOf(d, status);
    plan = {
      tuple: `(${cells.map((c) => c.sql).join(', ')})`,
      values: cells.flatMap((c) => (c.value ? [c.value] : [])),
    };
    PLANS.set(key, plan);
  }
  return plan;
}

function paramsOf(plan: RowPlan, records: readonly AccountingRecord[]): unknown[] {
  const params: unknown[] = [];
  for (const r of records) for (const value of plan.values) params.push(value(r));
  return params;
}

/**
 * How much later than a row's start a Start must be to be a new session in the row (see the
 * Start's `reuse` in assignments), in seconds: more than a copy of the row's own Start can be
 * (the jitter of arrival less Acct-Delay-Time), less than a NAS takes to reboot.
 */
export const REUSE_AFTER_SECONDS = 60;

/**
 * The columns a Start writes when it reuses a closed row for a new session (see assignments),
 * from its INSERT: every one but acctuniqueid, those a Start always writes, and acctstoptime.
 */
const REUSED_COLUMNS = RADACCT_COLUMNS.filter(
  (c) =>
    ![
      'acctuniqueid',
      'connectinfo_start',
      'acctstarttime',
      'acctupdatetime',
      'acctstoptime',
    ].includes(c),
);

/** The update part of each status type's upsert (see the class comment for the order). */
function assignments(
  d: RadacctDialect,
  status: SessionStatus,
  v: (column: string) => string = d.incoming,
): string[] {
  const open = 'acctstoptime IS NULL';
  // A row whose Start came after its Stop: the NAS reused the session's Acct-Session-Id (and
  // port) after a reboot, and a new session writes into the old row, as in FreeRADIUS. Its
  // packets apply as FreeRADIUS applies them: the counters start again from the packet's.
  const restarted = '(acctstoptime IS NOT NULL AND acctstarttime > acctstoptime)';
  const grown = (c: string) => d.greatest(`COALESCE(${c}, 0)`, v(c));
  const framed = [
    'framedipaddress',
    'framedipv6address',
    'framedipv6prefix',
    'framedinterfaceid',
    'delegatedipv6prefix',
  ];
  switch (status) {
    case 'Start': {
      // The row exists, open or stopped: queries.conf's Start falls back to its UPDATE by
      // acctuniqueid, of the times and connectinfo_start only. (The query between them in
      // queries.conf, which would refresh an open row's other columns by user, NAS and port,
      // is the sql_session_start variant: disabled, `-query`, in the stock file.)
      // radgraph differs where the Start is a new session in the row (`reuse`): the NAS
      // rebooted and gave the same user, on the same port, an Acct-Session-Id it had given
      // before, so the acctuniqueid is the same. The row is closed, with a stop earlier than the
      // Start, or still open (the NAS lost power: no Stop, no Accounting-On) with a last report
      // (update time, else start) earlier than it; and either way its start is more than
      // REUSE_AFTER_SECONDS earlier. The row becomes the new session, as the Start's INSERT
      // would have written it, keeping its radacctid: open, no cause, session time and
      // counters 0, its own addresses, MAC and port. (FreeRADIUS's closed row stays stopped
      // until the new session's Stop: online but in no list; and in either row the old
      // session's counters stay, so the new session's Interim-Updates, lower, add nothing to the
      // usage until they outgrow them.) A copy of the row's own Start has the first one's time,
      // or, from a NAS without Event-Timestamp (its time is the arrival less Acct-Delay-Time), a
      // second or so more: never REUSE_AFTER_SECONDS more, while a NAS takes longer than that to
      // reboot. Every assignment reads `reuse` before the last three change what it reads
      // (radacct-states.ts follows the same rule for the events: reusesRow).
      const start = d.unix(v('acctstarttime'));
      const reuse =
        `(COALESCE(${d.unix('acctstarttime')}, 0) + ${REUSE_AFTER_SECONDS} < ${start} AND (` +
        `(acctstoptime IS NOT NULL AND ${d.unix('acctstoptime')} < ${start})` +
        ` OR (acctstoptime IS NULL AND COALESCE(${d.unix('COALESCE(acctupdatetime, acctstarttime)')}, 0) < ${start})))`;
      return [
        ...REUSED_COLUMNS.map((c) => `${c} = ${d.iff(reuse, v(c), c)}`),
        `acctinterval = ${d.iff(reuse, 'NULL', 'acctinterval')}`,
        `connectinfo_start = ${v('connectinfo_start')}`,
        `acctstoptime = ${d.iff(reuse, 'NULL', 'acctstoptime')}`,
        `acctupdatetime = ${v('acctupdatetime')}`,
        `acctstarttime = ${v('acctstarttime')}`,
      ];
    }
    case 'Interim-Update': {
      const fresh = `((${open} OR ${restarted}) AND (acctupdatetime IS NULL OR acctupdatetime <= ${v('acctupdatetime')}))`;
      const keep = (c: string, value: string) => `${c} = ${d.iff(fresh, value, c)}`;
      // Open: the larger count, even from an older Interim-Update. Restarted: the packet's,
      // when it is the newer. Stopped: unchanged.
      const counter = (c: string) => `${c} = ${d.iff(open, grown(c), d.iff(fresh, v(c), c))}`;
      return [
        keep('acctinterval', `${d.unix(v('acctupdatetime'))} - ${d.unix('acctupdatetime')}`),
        ...framed.map((c) => keep(c, v(c))),
        keep('acctsessiontime', v('acctsessiontime')),
        counter('acctinputoctets'),
        counter('acctoutputoctets'),
        keep('acctupdatetime', v('acctupdatetime')),
      ];
    }
    case 'Stop':
      return [
        `acctsessiontime = ${v('acctsessiontime')}`,
        ...['acctinputoctets', 'acctoutputoctets'].map(
          (c) => `${c} = ${d.iff(restarted, v(c), grown(c))}`,
        ),
        `acctterminatecause = ${v('acctterminatecause')}`,
        `connectinfo_stop = ${v('connectinfo_stop')}`,
        `acctstoptime = ${v('acctstoptime')}`,
      ];
  }
}

/** One multi-row upsert of packets of one status type, each for a different session. */
export function upsertStatement(
  d: RadacctDialect,
  status: SessionStatus,
  records: readonly AccountingRecord[],
): Statement {
  const plan = planOf(d, status);
  const rows = records.map(() => plan.tuple);
  return {
    sql: d.upsert('radacct', [...RADACCT_COLUMNS], rows, 'acctuniqueid', assignments(d, status)),
    params: paramsOf(plan, records),
  };
}

/**
 * The same change as upsertStatement, for rows known to exist (the writer read them in this
 * transaction): one UPDATE joined to the batch's values, instead of an INSERT that fails on
 * acctuniqueid and turns into an update. That failed insert is most of the cost of an
 * Interim-Update in MariaDB (it also burns a radacctid). A row that went missing meanwhile is
 * simply not updated; the writer inserts only what it did not find.
 */
export function updateStatement(
  d: RadacctDialect,
  status: SessionStatus,
  records: readonly AccountingRecord[],
): Statement {
  const { set, cells, values } = updatePlanOf(d, status);
  const params: unknown[] = [];
  for (const r of records) for (const value of values) params.push(value(r));
  const first = `SELECT ${cells.map((c) => `${c.sql} AS n_${c.column}`).join(', ')}`;
  const tuple = cells.map((c) => c.sql).join(', ');
  const derived = d.rows(
    first,
    records.slice(1).map(() => tuple),
  );
  const sql =
    d.kind === 'mysql'
      ? `UPDATE radacct JOIN (${derived}) AS v ON radacct.acctuniqueid = v.n_acctuniqueid SET ${set}`
      : `UPDATE radacct SET ${set} FROM (${derived}) AS v WHERE radacct.acctuniqueid = v.n_acctuniqueid`;
  return { sql, params };
}

interface UpdatePlan {
  set: string;
  /** Only the columns the assignments read (and acctuniqueid): a smaller statement to send. */
  cells: Array<Cell & { column: string }>;
  values: Array<(r: AccountingRecord) => unknown>;
}

const UPDATE_PLANS = new Map<string, UpdatePlan>();

/**
 * A conversion (FROM_UNIXTIME, CAST ... AS SIGNED) that the assignments use at most this many
 * times is applied there, to the bare parameter the joined rows carry: MySQL then parses and
 * resolves it once per statement instead of once per row. One used more often (an
 * Interim-Update's update time, in every IF) stays in the rows, computed once per row. Either
 * way each assignment sees the same value: the conversion of the same parameter.
 */
const CONVERT_IN_SET = 2;

function updatePlanOf(d: RadacctDialect, status: SessionStatus): UpdatePlan {
  const key = `${d.kind}:${status}`;
  let plan = UPDATE_PLANS.get(key);
  if (!plan) {
    const all = cellsOf(d, status).map((cell, i) => ({ ...cell, column: RADACCT_COLUMNS[i] }));
    const byColumn = new Map<string, Cell & { column: string }>(all.map((c) => [c.column, c]));
    const ref = (column: string) => `v.n_${column}`;
    const uses = (set: string, column: string) => set.split(ref(column)).length - 1;
    const plain = assignments(d, status, ref).join(', ');
    const inSet = (c: Cell & { column: string }) =>
      c.value !== undefined && c.sql !== '?' && uses(plain, c.column) <= CONVERT_IN_SET;
    const set = assignments(d, status, (column) => {
      const cell = byColumn.get(column)!;
      return inSet(cell) ? cell.sql.replace('?', ref(column)) : ref(column);
    }).join(', ');
    const used = new Set(['acctuniqueid', ...[...set.matchAll(/v\.n_(\w+)/g)].map((m) => m[1])]);
    const cells = all
      .filter((c) => used.has(c.column))
      .map((c) => (inSet(c) ? { ...c, sql: '?' } : c));
    plan = { set, cells, values: cells.flatMap((c) => (c.value ? [c.value] : [])) };
    UPDATE_PLANS.set(key, plan);
  }
  return plan;
}

/**
 * Reopens sessions radgraph closed as stale (`cause`) that the NAS reports again with an
 * Interim-Update or a Stop: each row whose stop (the last update before the close) is older
 * than its session's latest report here (`time`, Unix seconds, compared as Unix seconds) is
 * open again, with no terminate cause, so that the packets after it apply as to any open
 * session. When an Interim-Update reopens it (`interim`), its update time is cleared too: the
 * Interim-Update's interval is then unknown (NULL), not the length of the outage, which the
 * stale-session rule would otherwise take as the session's interim interval and wait three
 * times as long before closing it again. (A later Start is a new session: the Start's `reuse`.)
 * FreeRADIUS closes no session as stale, so none of its queries does this.
 */
export function reviveStatement(
  d: RadacctDialect,
  sessions: ReadonlyMap<string, { time: number; interim: boolean }>,
  cause: string,
): Statement {
  const params: unknown[] = [];
  for (const [uid, { time, interim }] of sessions) params.push(uid, time, interim ? 1 : 0);
  const derived = d.rows(
    'SELECT ? AS n_acctuniqueid, ? AS n_time, ? AS n_interim',
    [...sessions.keys()].slice(1).map(() => '?, ?, ?'),
  );
  const closed = `radacct.acctstoptime IS NOT NULL AND radacct.acctterminatecause = ? AND ${d.unix('radacct.acctstoptime')} < v.n_time`;
  const set =
    `acctupdatetime = ${d.iff('v.n_interim = 1', 'NULL', 'acctupdatetime')}, ` +
    `acctterminatecause = '', acctstoptime = NULL`;
  const sql =
    d.kind === 'mysql'
      ? `UPDATE radacct JOIN (${derived}) AS v ON radacct.acctuniqueid = v.n_acctuniqueid SET ${set} WHERE ${closed}`
      : `UPDATE radacct SET ${set} FROM (${derived}) AS v WHERE radacct.acctuniqueid = v.n_acctuniqueid AND ${closed}`;
  return { sql, params: [...params, cause] };
}

/**
 * Accounting-On/Off: the NAS rebooted, so its open sessions (started before the event) are
 * over, with cause Acct-Terminate-Cause or NAS-Reboot (queries.conf's accounting-on query).
 */
export function nasRebootStatements(
  d: RadacctDialect,
  r: AccountingRecord,
): { select: Statement; close: (ids: string[]) => Statement; reload: Statement } {
  const where = `acctstoptime IS NULL AND nasipaddress = ? AND acctstarttime <= ${d.fromUnix('?')}`;
  const whereParams = [r.nasIpAddress, r.eventTime];
  const cause = fit('acctterminatecause', r.terminateCause || 'NAS-Reboot');
  const reload =
    d.kind === 'mysql'
      ? `INSERT INTO nasreload (nasipaddress, reloadtime) VALUES (?, ${d.fromUnix('?')}) ON DUPLICATE KEY UPDATE reloadtime = VALUES(reloadtime)`
      : `INSERT INTO nasreload (nasipaddress, reloadtime) VALUES (?, ${d.fromUnix('?')}) ON CONFLICT(nasipaddress) DO UPDATE SET reloadtime = excluded.reloadtime`;
  return {
    select: {
      sql: `SELECT radacctid AS id, acctuniqueid AS uid FROM radacct WHERE ${where}${d.forUpdate}`,
      params: whereParams,
    },
    close: (ids) => ({
      sql:
        `UPDATE radacct SET acctstoptime = ${d.fromUnix('?')}, ` +
        `acctsessiontime = ? - ${d.unix('acctstarttime')}, acctterminatecause = ? ` +
        `WHERE ${where} AND radacctid IN (${placeholders(ids.length)})`,
      params: [r.eventTime, r.eventTime, cause, ...whereParams, ...ids],
    }),
    reload: { sql: reload, params: [fit('nasipaddress', r.nasIpAddress), r.eventTime] },
  };
}
