import { NasRow } from './nas.entity';
import { NasReload } from './nasreload.entity';
import { RadAcct } from './radacct.entity';
import { RadCheck } from './radcheck.entity';
import { RadGroupCheck } from './radgroupcheck.entity';
import { RadGroupReply } from './radgroupreply.entity';
import { RadPostAuth } from './radpostauth.entity';
import { RadReply } from './radreply.entity';
import { RadUserGroup } from './radusergroup.entity';

export {
  NasRow,
  NasReload,
  RadAcct,
  RadCheck,
  RadGroupCheck,
  RadGroupReply,
  RadPostAuth,
  RadReply,
  RadUserGroup,
};

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

export const FREERADIUS_ENTITIES = [
  RadAcct,
  RadCheck,
  RadGroupCheck,
  RadGroupReply,
  RadReply,
  RadUserGroup,
  RadPostAuth,
  NasRow,
  NasReload,
];
