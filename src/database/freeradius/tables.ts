/** The tables of FreeRADIUS 3.2's schema.sql, in the order that file creates them. */
export const FREERADIUS_TABLES = [
  'radacct',
  'radcheck',
  'radgroupcheck',
  'radgroupreply',
  'radreply',
  'radusergroup',
  'radpostauth',
  'nas',
  'nasreload',
] as const;
