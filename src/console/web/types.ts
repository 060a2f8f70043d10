// Hand-written shapes of the GraphQL results the console reads (see schema.gql).

export type Role = 'VIEWER' | 'OPERATOR' | 'ADMIN';

/** The BigInt scalar: a JSON number when it fits in 2^53-1, else a decimal string. */
export type BigIntValue = number | string;

/** The DateTime scalar: an ISO 8601 string at UTC. */
export type DateTimeValue = string;

/** The Money scalar: a decimal string such as "50.00" or "-3.50". */
export type MoneyValue = string;

export interface Viewer {
  name: string;
  role: Role;
}

export interface PageInfo {
  endCursor: string | null;
  hasNextPage: boolean;
}

export interface Connection<T> {
  totalCount: number;
  pageInfo: PageInfo;
  edges: { node: T }[];
}

export interface NasRef {
  id: string;
  /** nas.nasname: the address FreeRADIUS matches the router on. */
  name: string;
  shortname: string | null;
}

/** A row of the Online Customers table (the fields of OnlineSessionFields). */
export interface LiveSession {
  id: string;
  username: string;
  ipAddress: string | null;
  macAddress: string | null;
  startedAt: DateTimeValue | null;
  lastSeenAt: DateTimeValue | null;
  uploadBytes: BigIntValue;
  downloadBytes: BigIntValue;
  nasIpAddress: string;
  nas: NasRef | null;
  /** The customer whose username the session carries (a search finds it by a part of it). */
  customer: { username: string } | null;
}

export type SessionEventType = 'STARTED' | 'UPDATED' | 'STOPPED';

export interface SessionEvent {
  type: SessionEventType;
  session: LiveSession;
}

export interface NasOnline {
  nasIpAddress: string;
  count: number;
  nas: NasRef | null;
}

export interface TopSession {
  id: string;
  username: string;
  uploadBytes: BigIntValue;
  downloadBytes: BigIntValue;
}

export interface OnlineHeaderData {
  onlineSummary: { total: number; byNas: NasOnline[] };
  topSessions: TopSession[];
}

export interface ProfileRef {
  id: string;
  name: string;
}

export type CustomerStatus = 'ONLINE' | 'OFFLINE' | 'EXPIRED' | 'SUSPENDED';

export interface CustomerListItem {
  id: string;
  accountNo: string;
  username: string;
  phone: string | null;
  profile: { name: string } | null;
  joinedAt: DateTimeValue;
}

export interface HistorySession {
  id: string;
  startedAt: DateTimeValue | null;
  stoppedAt: DateTimeValue | null;
  durationSeconds: number | null;
  uploadBytes: BigIntValue;
  downloadBytes: BigIntValue;
  terminateCause: string | null;
}

export interface CurrentSession {
  id: string;
  ipAddress: string | null;
  macAddress: string | null;
  startedAt: DateTimeValue | null;
  uploadBytes: BigIntValue;
  downloadBytes: BigIntValue;
  nasIpAddress: string;
  nas: NasRef | null;
}

/** Customer.usage: this month's traffic, the profile's limit, and what the data cap did. */
export interface MonthUsage {
  totalBytes: BigIntValue;
  limitBytes: BigIntValue | null;
  capAction: 'THROTTLED' | 'DISCONNECTED' | null;
  capActedAt: DateTimeValue | null;
}

export interface CustomerDetail {
  id: string;
  accountNo: string;
  username: string;
  phone: string | null;
  name: string | null;
  joinedAt: DateTimeValue;
  expiresAt: DateTimeValue | null;
  status: CustomerStatus;
  suspended: boolean;
  balance: MoneyValue;
  profile: ProfileRef | null;
  usage: MonthUsage;
  currentSession: CurrentSession | null;
  sessions: Connection<HistorySession>;
}

export interface CreatedCustomer {
  id: string;
  username: string;
  generatedPassword: string | null;
}

export interface DisconnectResult {
  ok: boolean;
  method: string;
  message: string | null;
}
