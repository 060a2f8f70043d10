import type { SelectQueryBuilder } from 'typeorm';
import { Connection, keysetPage, mapConnection } from '../../common/pagination/connection';
import type { RadAcct } from '../../database/freeradius';
import { Session } from './session.model';

const orNull = (s: string | null | undefined) =>
  s === null || s === undefined || s === '' ? null : s;

/** Whole seconds from `from` to `to`, never below 0; null without a start. */
const secondsBetween = (from: Date | null, to: Date) =>
  from ? Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000)) : null;

export function toSession(row: RadAcct, now: Date = new Date()): Session {
  const stop = row.acctStopTime;
  // Open: the time since it started. Stopped: acctsessiontime, or, when the Stop carried no
  // Acct-Session-Time (FreeRADIUS and the listener then write NULL), stop minus start.
  const duration =
    stop === null
      ? (secondsBetween(row.acctStartTime, now) ?? row.acctSessionTime)
      : (row.acctSessionTime ?? secondsBetween(row.acctStartTime, stop));
  return {
    id: String(row.radAcctId),
    uniqueId: row.acctUniqueId,
    sessionId: row.acctSessionId,
    username: row.username,
    ipAddress: orNull(row.framedIpAddress),
    ipv6Address: orNull(row.framedIpv6Address),
    ipv6Prefix: orNull(row.framedIpv6Prefix),
    delegatedIpv6Prefix: orNull(row.delegatedIpv6Prefix),
    macAddress: orNull(row.callingStationId),
    startedAt: row.acctStartTime,
    updatedAt: row.acctUpdateTime,
    stoppedAt: stop,
    durationSeconds: duration,
    uploadBytes: String(row.acctInputOctets ?? '0'),
    downloadBytes: String(row.acctOutputOctets ?? '0'),
    nasIpAddress: row.nasIpAddress,
    nasPortId: orNull(row.nasPortId),
    terminateCause: orNull(row.acctTerminateCause),
    lastSeenAt: row.rgSeenAt ?? null,
    interimIntervalSeconds: row.acctInterval,
  };
}

/**
 * One page of radacct rows (`query` selects them as `a`), newest first by radacctid, as
 * Sessions. `prefix` keeps one list's cursors from being used on another; `count`, a cheaper
 * way to count the same rows, when there is one.
 */
export async function sessionPage(
  query: () => SelectQueryBuilder<RadAcct>,
  prefix: string,
  first: number,
  after?: string | null,
  count?: () => Promise<number>,
): Promise<Connection<Session>> {
  const page = await keysetPage({
    query,
    count,
    key: 'a.radacctid',
    idOf: (row) => row.radAcctId,
    prefix,
    first,
    after,
  });
  const now = new Date();
  return mapConnection(page, (row) => toSession(row, now));
}
