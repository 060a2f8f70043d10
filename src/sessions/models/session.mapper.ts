import type { RadAcct } from '../../database/freeradius';
import { Session } from './session.model';

const orNull = (s: string | null | undefined) =>
  s === null || s === undefined || s === '' ? null : s;

export function toSession(row: RadAcct, now: Date = new Date()): Session {
  const open = row.acctStopTime === null;
  let duration = row.acctSessionTime;
  if (open && row.acctStartTime) {
    duration = Math.max(0, Math.floor((now.getTime() - row.acctStartTime.getTime()) / 1000));
  }
  return {
    id: String(row.radAcctId),
    uniqueId: row.acctUniqueId,
    sessionId: row.acctSessionId,
    username: row.username,
    ipAddress: orNull(row.framedIpAddress),
    macAddress: orNull(row.callingStationId),
    startedAt: row.acctStartTime,
    updatedAt: row.acctUpdateTime,
    stoppedAt: row.acctStopTime,
    durationSeconds: duration,
    uploadBytes: String(row.acctInputOctets ?? '0'),
    downloadBytes: String(row.acctOutputOctets ?? '0'),
    nasIpAddress: row.nasIpAddress,
    nasPortId: orNull(row.nasPortId),
    terminateCause: orNull(row.acctTerminateCause),
  };
}
