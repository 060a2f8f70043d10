import { FreeradiusSchema1763769600000 } from './1763769600000-freeradius-schema';
import { ProfilesAndCustomers1763856000000 } from './1763856000000-profiles-and-customers';
import { LiveSessions1763942400000 } from './1763942400000-live-sessions';
import { OnlineSessionIndexes1764028800000 } from './1764028800000-online-session-indexes';
import { NasSettings1764201600000 } from './1764201600000-nas-settings';
import { BalanceLedger1764288000000 } from './1764288000000-balance-ledger';
import { UsageMonthly1764374400000 } from './1764374400000-usage-monthly';
import { ExpiryJobs1764460800000 } from './1764460800000-expiry-jobs';
import { DataCap1764547200000 } from './1764547200000-data-cap';
import { ApiKeys1764633600000 } from './1764633600000-api-keys';
import { AuditLog1764720000000 } from './1764720000000-audit-log';
import { UsageMonthOfStop1764892800000 } from './1764892800000-usage-month-of-stop';
import { FupLift1764979200000 } from './1764979200000-fup-lift';
import { StaleSessionChanges1765065600000 } from './1765065600000-stale-session-changes';
import { ExpiryDisconnectRetry1765152000000 } from './1765152000000-expiry-disconnect-retry';
import { IdempotencyKeys1765238400000 } from './1765238400000-idempotency-keys';
import { AdoptedRadacctSeen1765324800000 } from './1765324800000-adopted-radacct-seen';
import { ExpiryStillAlive1765411200000 } from './1765411200000-expiry-still-alive';
import { ReusedRadacctChanges1765497600000 } from './1765497600000-reused-radacct-changes';
import { OpenReusedRadacctChanges1765584000000 } from './1765584000000-open-reused-radacct-changes';
import { RadacctChangesByRow1765674000000 } from './1765674000000-radacct-changes-by-row';
import { LateReportUsage1765760400000 } from './1765760400000-late-report-usage';
import { WebhookOutbox1765846800000 } from './1765846800000-webhook-outbox';
import { CustomerVersion1765933200000 } from './1765933200000-customer-version';
import { AuditLogMilliseconds1766019600000 } from './1766019600000-audit-log-milliseconds';
import { AuditLogLabelIndex1766106000000 } from './1766106000000-audit-log-label-index';

/** SQLite migrations, oldest first. */
export const SQLITE_MIGRATIONS = [
  FreeradiusSchema1763769600000,
  ProfilesAndCustomers1763856000000,
  LiveSessions1763942400000,
  OnlineSessionIndexes1764028800000,
  NasSettings1764201600000,
  BalanceLedger1764288000000,
  UsageMonthly1764374400000,
  ExpiryJobs1764460800000,
  DataCap1764547200000,
  ApiKeys1764633600000,
  AuditLog1764720000000,
  UsageMonthOfStop1764892800000,
  FupLift1764979200000,
  StaleSessionChanges1765065600000,
  ExpiryDisconnectRetry1765152000000,
  IdempotencyKeys1765238400000,
  AdoptedRadacctSeen1765324800000,
  ExpiryStillAlive1765411200000,
  ReusedRadacctChanges1765497600000,
  OpenReusedRadacctChanges1765584000000,
  RadacctChangesByRow1765674000000,
  LateReportUsage1765760400000,
  WebhookOutbox1765846800000,
  CustomerVersion1765933200000,
  AuditLogMilliseconds1766019600000,
  AuditLogLabelIndex1766106000000,
];
