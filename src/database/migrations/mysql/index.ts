import { FreeradiusSchema1763769600000 } from './1763769600000-freeradius-schema';
import { ProfilesAndCustomers1763856000000 } from './1763856000000-profiles-and-customers';
import { LiveSessions1763942400000 } from './1763942400000-live-sessions';
import { OnlineSessionIndexes1764028800000 } from './1764028800000-online-session-indexes';
import { RadacctChangeTriggerGuard1764115200000 } from './1764115200000-radacct-change-trigger-guard';
import { NasSettings1764201600000 } from './1764201600000-nas-settings';
import { UsageMonthly1764374400000 } from './1764374400000-usage-monthly';

/** MySQL/MariaDB migrations, oldest first. */
export const MYSQL_MIGRATIONS = [
  FreeradiusSchema1763769600000,
  ProfilesAndCustomers1763856000000,
  LiveSessions1763942400000,
  OnlineSessionIndexes1764028800000,
  RadacctChangeTriggerGuard1764115200000,
  NasSettings1764201600000,
  UsageMonthly1764374400000,
];
