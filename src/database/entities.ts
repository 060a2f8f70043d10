import { AuditEntryEntity } from '../audit/audit-entry.entity';
import { ApiKeyEntity } from '../auth/api-keys/api-key.entity';
import { JobLeaseEntity } from '../common/jobs/job-lease.entity';
import { CustomerEntity } from '../customers/customer.entity';
import { CustomerSearchKey } from '../customers/customer-search-key.entity';
import { LedgerEntryEntity } from '../customers/ledger-entry.entity';
import { IdempotencyKeyEntity } from '../customers/idempotency/idempotency-key.entity';
import { ExpiryActionEntity } from '../expiry/expiry-action.entity';
import { NasSettingsEntity } from '../nas/nas-settings.entity';
import { ProfileEntity } from '../profiles/profile.entity';
import { CapActionEntity } from '../usage/cap-action.entity';
import { UsageMonthEntity } from '../usage/usage-month.entity';
import { UsagePeriodEntity } from '../usage/usage-period.entity';
import { RadacctChange } from '../sessions/feed/radacct-change.entity';
import { WebhookOutboxEntity } from '../webhooks/webhook-outbox.entity';
import { FREERADIUS_ENTITIES } from './freeradius';

/** Every entity of radgraph: FreeRADIUS's tables, then radgraph's own as modules add them. */
export const ENTITIES = [
  ...FREERADIUS_ENTITIES,
  ProfileEntity,
  CustomerEntity,
  CustomerSearchKey,
  LedgerEntryEntity,
  RadacctChange,
  NasSettingsEntity,
  UsageMonthEntity,
  UsagePeriodEntity,
  CapActionEntity,
  JobLeaseEntity,
  ExpiryActionEntity,
  ApiKeyEntity,
  AuditEntryEntity,
  IdempotencyKeyEntity,
  WebhookOutboxEntity,
];
