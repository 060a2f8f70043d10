// The Online Customers table as live state: a snapshot of onlineSessions with every
// sessionEventBatches event applied on top, and the header figures it can give exactly.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { macPrefixes } from '../../sessions/mac-prefixes';
import { toApiError, type ApiError } from './api';
import { sumBytes } from './format';
import { useSession } from './hooks';
import { ONLINE_SESSIONS, SESSION_EVENT_BATCHES } from './queries';
import type { LiveSession, NasOnline, OnlineHeaderData, SessionEvent, TopSession } from './types';

/** The table shows the newest sessions, up to this many (the snapshot's page size). */
export const MAX_ROWS = 100;
/**
 * A table that Stops left short of MAX_ROWS while more sessions are open reads the snapshot
 * again to fill up, at most this often.
 */
export const REFILL_MIN_INTERVAL_MS = 1000;

/**
 * The client-side twin of onlineSessions(search) (src/sessions/online-search.ts): the
 * username, IP address or MAC address (written any of the ways macPrefixes gives) starts with
 * the text, or the session's customer's username contains it; whatever the case.
 */
function matches(session: LiveSession, search: string): boolean {
  if (!search) return true;
  const term = search.toLowerCase();
  const startsWith = (value: string | null, prefix: string) =>
    (value ?? '').toLowerCase().startsWith(prefix.toLowerCase());
  return (
    startsWith(session.username, term) ||
    startsWith(session.ipAddress, term) ||
    macPrefixes(search).some((prefix) => startsWith(session.macAddress, prefix)) ||
    (session.customer?.username.toLowerCase().includes(term) ?? false)
  );
}

const startTime = (s: LiveSession) => (s.startedAt ? Date.parse(s.startedAt) : 0) || 0;

/** Newest start first; the id breaks ties. */
function newestFirst(a: LiveSession, b: LiveSession): number {
  return startTime(b) - startTime(a) || Number(b.id) - Number(a.id) || b.id.localeCompare(a.id);
}

/** Whether an event's copy of a session is not older than the one in the table. */
function isNewer(incoming: LiveSession, existing: LiveSession | undefined): boolean {
  if (!existing?.lastSeenAt || !incoming.lastSeenAt) return true;
  return Date.parse(incoming.lastSeenAt) >= Date.parse(existing.lastSeenAt);
}

interface SnapshotPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean };
  edges: { node: LiveSession }[];
}

export interface LiveSessions {
  rows: LiveSession[];
  /**
   * How many sessions match: the snapshot's totalCount (for a filter: exact; without one: up
   * to 1 s old), kept current by every STARTED and STOPPED since.
   */
  totalCount: number | null;
  /**
   * The rows are every open session: no filter, the snapshot had no next page, and the
   * table has stayed under MAX_ROWS since. The header can then be counted from them.
   */
  complete: boolean;
  loading: boolean;
  error: string | null;
}

/**
 * The NAS filter's own error: its NAS was deleted (NOT_FOUND) or has a new address
 * (NAS_CHANGED), both naming the field nasId.
 */
export function nasFilterError(errors: ApiError[]): ApiError | undefined {
  return errors.find(
    (e) => e.field === 'nasId' && (e.code === 'NOT_FOUND' || e.code === 'NAS_CHANGED'),
  );
}

/**
 * The table's rows: the snapshot for (search, nasId) with every later event applied. Stops
 * that leave it short while more sessions match than it shows read the snapshot again, to
 * fill it up; the total follows every STARTED and STOPPED.
 *
 * onNasError hears that the selected NAS was deleted (NOT_FOUND: the subscription stays ended
 * and the snapshot is not read again; the caller is to choose another filter) or changed its
 * address (NAS_CHANGED: the subscription starts again, and the snapshot follows).
 */
export function useLiveSessions(
  search: string,
  nasId: string,
  onEvents: () => void,
  onNasError: (error: ApiError) => void,
): LiveSessions {
  const { api, live } = useSession();
  const [rows, setRows] = useState<LiveSession[]>([]);
  const [totalCount, setTotalCount] = useState<number | null>(null);
  const [complete, setComplete] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const table = useRef(new Map<string, LiveSession>());
  const completeRef = useRef(false);
  // More sessions match than the table holds: the snapshot had a next page, or rows were cut.
  // Those others are all older than every row.
  const truncated = useRef(false);
  // The snapshot's totalCount with every later STARTED and STOPPED counted in.
  const total = useRef<number | null>(null);
  const searchRef = useRef(search);
  searchRef.current = search;
  // Events that arrive while a snapshot loads wait here, then apply on top of it.
  const pending = useRef<SessionEvent[] | null>(null);
  // While a refill's snapshot loads (events apply at once meanwhile): the sessions events
  // took out, which its answer may still hold.
  const removedDuringRefill = useRef<Set<string> | null>(null);
  const refillTimer = useRef<number | undefined>(undefined);
  const lastRefill = useRef(0);
  const refillRef = useRef<() => Promise<void>>(() => Promise.resolve());
  // Whether the subscription is live: it said so with its empty first batch (announceLive).
  // A snapshot read before then could miss an event that commits meanwhile for good.
  const subscribed = useRef(false);
  const seq = useRef(0);
  const onEventsRef = useRef(onEvents);
  onEventsRef.current = onEvents;
  const onNasErrorRef = useRef(onNasError);
  onNasErrorRef.current = onNasError;

  const cancelRefill = useCallback(() => {
    window.clearTimeout(refillTimer.current);
    refillTimer.current = undefined;
  }, []);

  /** A refill, throttled, when the table is short of MAX_ROWS and more sessions match. */
  const scheduleRefill = useCallback(() => {
    if (!truncated.current || table.current.size >= MAX_ROWS || !subscribed.current) return;
    if (pending.current || removedDuringRefill.current || refillTimer.current !== undefined) {
      return;
    }
    const wait = Math.max(0, lastRefill.current + REFILL_MIN_INTERVAL_MS - Date.now());
    refillTimer.current = window.setTimeout(() => {
      refillTimer.current = undefined;
      void refillRef.current();
    }, wait);
  }, []);

  const publish = useCallback(() => {
    const sorted = [...table.current.values()].sort(newestFirst);
    if (sorted.length > MAX_ROWS) {
      completeRef.current = false;
      truncated.current = true;
    }
    const shown = sorted.slice(0, MAX_ROWS);
    table.current = new Map(shown.map((s) => [s.id, s]));
    setRows(shown);
    setComplete(completeRef.current);
    setTotalCount(total.current === null ? null : Math.max(total.current, shown.length));
    scheduleRefill();
  }, [scheduleRefill]);

  /**
   * Whether the session is older than every row while more sessions match than the table
   * holds: it is not shown, but the total counts it while it is open.
   */
  const pastTheRows = useCallback((session: LiveSession) => {
    if (!truncated.current) return false;
    let oldest: LiveSession | undefined;
    for (const row of table.current.values()) {
      if (!oldest || newestFirst(row, oldest) > 0) oldest = row;
    }
    return !oldest || newestFirst(session, oldest) > 0;
  }, []);

  const apply = useCallback(
    (events: SessionEvent[]) => {
      for (const { type, session } of events) {
        const existing = table.current.get(session.id);
        const matching = matches(session, searchRef.current);
        const wanted = type !== 'STOPPED' && matching;
        const hidden = !existing && type !== 'STARTED' && pastTheRows(session);
        // A STARTED session is new, unless the table has it already.
        const counted = existing !== undefined || (hidden && matching);
        if (total.current !== null) total.current += Number(wanted) - Number(counted);
        if (!wanted) {
          table.current.delete(session.id);
          removedDuringRefill.current?.add(session.id);
        } else if (!hidden && isNewer(session, existing)) {
          table.current.set(session.id, session);
        }
      }
    },
    [pastTheRows],
  );

  /** onlineSessions for the table's search and NAS, as it stands now. */
  const readSnapshot = useCallback(
    async () =>
      (
        await api.request<{ onlineSessions: SnapshotPage }>(ONLINE_SESSIONS, {
          search: searchRef.current || null,
          nasId: nasId || null,
        })
      ).onlineSessions,
    [api, nasId],
  );

  const loadSnapshot = useCallback(async () => {
    const mine = ++seq.current;
    const filtered = searchRef.current !== '' || nasId !== '';
    pending.current ??= [];
    cancelRefill();
    if (filtered) completeRef.current = false;
    setLoading(true);
    try {
      const page = await readSnapshot();
      if (mine !== seq.current) return;
      table.current = new Map(page.edges.map((e) => [e.node.id, e.node]));
      completeRef.current = !filtered && !page.pageInfo.hasNextPage;
      truncated.current = page.pageInfo.hasNextPage;
      total.current = page.totalCount;
      setError(null);
    } catch (err) {
      if (mine !== seq.current) return;
      completeRef.current = false;
      const error = toApiError(err);
      const nasError = nasFilterError([error]);
      if (nasError)
        onNasErrorRef.current(nasError); // the page chooses another filter
      else setError(error.message);
    }
    apply(pending.current ?? []);
    pending.current = null;
    publish();
    setLoading(false);
  }, [nasId, readSnapshot, apply, publish, cancelRefill]);

  // The snapshot read again into a table that Stops left short. Events keep applying
  // meanwhile; its rows join the table, but for those events took out since it was sent.
  // The total stays the events' (an unfiltered totalCount may be a second old).
  const refill = useCallback(async () => {
    if (pending.current || !subscribed.current) return;
    const mine = seq.current;
    const filtered = searchRef.current !== '' || nasId !== '';
    const removed = new Set<string>();
    removedDuringRefill.current = removed;
    lastRefill.current = Date.now();
    try {
      const page = await readSnapshot();
      if (mine !== seq.current) return;
      for (const { node } of page.edges) {
        if (!removed.has(node.id) && isNewer(node, table.current.get(node.id))) {
          table.current.set(node.id, node);
        }
      }
      truncated.current = page.pageInfo.hasNextPage;
      completeRef.current = !filtered && !page.pageInfo.hasNextPage;
      removedDuringRefill.current = null;
      publish();
    } catch {
      // The next event that leaves the table short tries again.
    } finally {
      if (removedDuringRefill.current === removed) removedDuringRefill.current = null;
    }
  }, [nasId, readSnapshot, publish]);
  refillRef.current = refill;

  // A new search with a live subscription: a new snapshot. Before it is live, its
  // announcement loads the snapshot (for the search as it is then).
  useEffect(() => {
    if (subscribed.current) void loadSnapshot();
    return () => {
      seq.current++;
      cancelRefill();
    };
  }, [loadSnapshot, search, cancelRefill]);

  // The events of the selected NAS (all without one), and the snapshot each time the
  // subscription is live: at first, after every reconnection (graphql-ws subscribes again,
  // and the empty batch comes again) and after a restart (SLOW_CONSUMER, say).
  useEffect(() => {
    subscribed.current = false;
    setLoading(true);
    const stop = live.subscribe<{ sessionEventBatches: SessionEvent[] }>(
      SESSION_EVENT_BATCHES,
      { nasId: nasId || null },
      {
        next: ({ sessionEventBatches: events }) => {
          if (events.length === 0) {
            subscribed.current = true;
            // The snapshot read now reflects every event held from before (a load that was
            // under way when the feed dropped): applied on top, a STARTED whose STOPPED was
            // missed meanwhile would bring back a ghost row.
            pending.current = [];
            void loadSnapshot();
            onEventsRef.current(); // the header's figures too, read now that nothing is missed
            return;
          }
          if (pending.current) pending.current.push(...events);
          else {
            apply(events);
            publish();
          }
          onEventsRef.current();
        },
        restarted: () => {
          subscribed.current = false;
        },
        ended: (errors) => {
          const nasError = nasFilterError(errors);
          if (nasError) onNasErrorRef.current(nasError);
          return nasError?.code === 'NOT_FOUND';
        },
      },
    );
    return () => {
      stop();
      subscribed.current = false;
      seq.current++;
      cancelRefill();
    };
  }, [live, nasId, apply, publish, loadSnapshot, cancelRefill]);

  return { rows, totalCount, complete, loading, error };
}

/**
 * The header's figures counted from a table that holds every open session: exact at once,
 * where onlineSummary may be up to a second old.
 */
export function localHeader(rows: LiveSession[]): OnlineHeaderData {
  const byNas = new Map<string, NasOnline>();
  for (const s of rows) {
    const entry = byNas.get(s.nasIpAddress) ?? {
      nasIpAddress: s.nasIpAddress,
      count: 0,
      nas: s.nas,
    };
    entry.count += 1;
    byNas.set(s.nasIpAddress, entry);
  }
  const topSessions: TopSession[] = [...rows]
    .sort(
      (a, b) => sumBytes(b.uploadBytes, b.downloadBytes) - sumBytes(a.uploadBytes, a.downloadBytes),
    )
    .slice(0, 5)
    .map(({ id, username, uploadBytes, downloadBytes }) => ({
      id,
      username,
      uploadBytes,
      downloadBytes,
    }));
  return {
    onlineSummary: {
      total: rows.length,
      byNas: [...byNas.values()].sort((a, b) => b.count - a.count),
    },
    topSessions,
  };
}
