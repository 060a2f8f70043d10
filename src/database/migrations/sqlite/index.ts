import { FreeradiusSchema1763769600000 } from './1763769600000-freeradius-schema';

/** SQLite migrations, oldest first. */
export const SQLITE_MIGRATIONS = [FreeradiusSchema1763769600000];
