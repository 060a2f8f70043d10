import { CustomerEntity } from '../customers/customer.entity';
import { CustomerSearchKey } from '../customers/customer-search-key.entity';
import { NasSettingsEntity } from '../nas/nas-settings.entity';
import { ProfileEntity } from '../profiles/profile.entity';
import { UsageMonthEntity } from '../usage/usage-month.entity';
import { RadacctChange } from '../sessions/feed/radacct-change.entity';
import { FREERADIUS_ENTITIES } from './freeradius';

/** Every entity of radgraph: FreeRADIUS's tables, then radgraph's own as modules add them. */
export const ENTITIES = [
  ...FREERADIUS_ENTITIES,
  ProfileEntity,
  CustomerEntity,
  CustomerSearchKey,
  RadacctChange,
  NasSettingsEntity,
  UsageMonthEntity,
];
