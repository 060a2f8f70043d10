import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * Two instants, in January and in July, to read the MySQL server's time zone at: a zone with
 * daylight saving time (either hemisphere) is off UTC at one of them at least, whatever the
 * date radgraph starts on.
 */
const PROBES = [
  { month: 'January', sql: '2026-01-15 12:00:00', utc: Date.UTC(2026, 0, 15, 12) / 1000 },
  { month: 'July', sql: '2026-07-15 12:00:00', utc: Date.UTC(2026, 6, 15, 12) / 1000 },
];

/** The time zone a MySQL session works in, as read from the server. */
export interface DatabaseZone {
  /** `@@time_zone` ("SYSTEM", "+00:00", a name). */
  timeZone: string;
  /** `@@system_time_zone`, the server's own zone when time_zone is SYSTEM ("UTC", "CET"). */
  systemZone: string;
  /** The zone's offset from UTC at each of PROBES, in seconds (UTC+2: 7200). */
  offsets: number[];
}

type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** The zone of the session `query` runs in: the server's default for radgraph and FreeRADIUS. */
export async function readDatabaseZone(query: Query): Promise<DatabaseZone> {
  const [row] = await query(
    `SELECT ${PROBES.map((p, i) => `UNIX_TIMESTAMP('${p.sql}') AS at${i}`).join(', ')}, ` +
      '@@session.time_zone AS tz, @@system_time_zone AS sys',
  );
  return {
    timeZone: String(row.tz),
    systemZone: String(row.sys),
    offsets: PROBES.map((p, i) => p.utc - Number(row[`at${i}`])),
  };
}

/** "UTC+5:30", "UTC-3", "UTC". */
function utcOffset(seconds: number): string {
  if (seconds === 0) return 'UTC';
  const minutes = Math.round(Math.abs(seconds) / 60);
  const m = minutes % 60;
  return `UTC${seconds < 0 ? '-' : '+'}${Math.floor(minutes / 60)}${m ? `:${String(m).padStart(2, '0')}` : ''}`;
}

/**
 * What is wrong when the server's zone is not UTC all year, or null. FreeRADIUS writes
 * radacct's times in that zone (`FROM_UNIXTIME`, `NOW()`) and radgraph reads every DATETIME
 * as UTC, so each session's times would be read that far off.
 */
export function databaseZoneProblem(zone: DatabaseZone): string | null {
  if (zone.offsets.every((o) => o === 0)) return null;
  const named =
    zone.timeZone === 'SYSTEM' ? `SYSTEM, the server's zone ${zone.systemZone}` : zone.timeZone;
  const at =
    [...new Set(zone.offsets)].length === 1
      ? utcOffset(zone.offsets[0])
      : PROBES.map((p, i) => `${utcOffset(zone.offsets[i])} in ${p.month}`).join(', ');
  return (
    `the MySQL server's time zone is not UTC (time_zone ${named}: ${at}). FreeRADIUS writes ` +
    "radacct's times in it and radgraph reads them as UTC, so every session time radgraph " +
    'shows (start, last update, stop, and the durations from them) is off by that much. Set ' +
    "default_time_zone = '+00:00' under [mysqld] and restart the server (README: Database)"
  );
}

/** At start, on MySQL: warns when the server is not in UTC (databaseZoneProblem). */
@Injectable()
export class DatabaseClockCheck implements OnApplicationBootstrap {
  private readonly log = new Logger('Database');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.dataSource.options.type === 'better-sqlite3') return; // SQLite's times are UTC
    try {
      const problem = databaseZoneProblem(
        await readDatabaseZone((sql) => this.dataSource.query(sql)),
      );
      if (problem) this.log.warn(problem);
    } catch (err) {
      this.log.warn(`cannot read the MySQL server's time zone: ${(err as Error).message}`);
    }
  }
}
