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

export { FREERADIUS_TABLES } from './tables';

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
