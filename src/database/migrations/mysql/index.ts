import { FreeradiusSchema1763769600000 } from './1763769600000-freeradius-schema';

/** MySQL/MariaDB migrations, oldest first. */
export const MYSQL_MIGRATIONS = [FreeradiusSchema1763769600000];
