// Customer detail: account, status, balance, sessions, and the operator actions.
import { useEffect, useRef, useState } from 'preact/hooks';
import { toApiError } from '../api';
import {
  STATUS_LABEL,
  formatBytes,
  formatDate,
  formatDateTime,
  formatDuration,
  nasName,
  orDash,
  toNumber,
} from '../format';
import { canOperate, useQuery, useSession, useThrottle } from '../hooks';
import {
  CHANGE_PROFILE,
  CUSTOMER_DETAIL,
  CUSTOMER_SESSIONS,
  CUSTOMER_SESSION_EVENTS,
  DISCONNECT,
  RENEW,
  RESUME,
  SUSPEND,
} from '../queries';
import type {
  Connection,
  CustomerDetail,
  DisconnectResult,
  HistorySession,
  MonthUsage,
  ProfileRef,
} from '../types';

interface Outcome {
  ok: boolean;
  message: string;
  /** A renewal refused for the balance: offer to force it. */
  offerForce?: boolean;
}

interface Props {
  id: string;
  /** The password createCustomer generated, shown this once. */
  generatedPassword: string | null;
}

export function CustomerDetailPage({ id, generatedPassword }: Props) {
  const { api, live, viewer } = useSession();
  const { data, error, loading, refetch } = useQuery<{
    customer: CustomerDetail | null;
    profiles: ProfileRef[];
  }>(CUSTOMER_DETAIL, { id });
  const [profileId, setProfileId] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const renewKey = useRef<{ id: string; force: boolean; key: string } | null>(null);
  const customer = data?.customer;

  // Keep the status and sessions current: refetch when this customer's sessions change, and
  // when the subscription says it is live (announceLive's empty batch: at first, and after
  // each reconnection, as graphql-ws resubscribes by itself; what happened before it never
  // comes as an event, and a read then misses nothing).
  const refresh = useThrottle(() => void refetch(), 1000);
  const username = customer?.username;
  useEffect(() => {
    if (!username) return;
    const unsubscribe = live.subscribe(
      CUSTOMER_SESSION_EVENTS,
      { username },
      { next: refresh, restarted: refresh },
    );
    return unsubscribe;
  }, [live, username, refresh]);

  useEffect(() => {
    if (customer?.profile) setProfileId((p) => p || (customer.profile?.id ?? ''));
  }, [customer?.profile]);

  if (!data) {
    if (error) return <p class="alert alert-error">{error.message}</p>;
    return <p class="muted">Loading…</p>;
  }
  if (!customer) {
    return (
      <p class="alert alert-error">
        No customer with id {id}. <a href="#/customers">Back to the list</a>
      </p>
    );
  }

  const mayAct = canOperate(viewer.role);
  const disabledTitle = mayAct ? undefined : 'Actions need an OPERATOR key.';

  /** Runs one mutation, then refetches and shows what came of it. */
  const act = async (run: () => Promise<Outcome>) => {
    setBusy(true);
    setOutcome(null);
    try {
      setOutcome(await run());
    } catch (err) {
      const e = toApiError(err);
      setOutcome({
        ok: false,
        message: e.message,
        offerForce: e.code === 'BAD_USER_INPUT' && e.reason === 'INSUFFICIENT_BALANCE',
      });
    }
    await refetch();
    setBusy(false);
  };

  const changeProfile = () =>
    act(async () => {
      const { changeCustomerProfile: c } = await api.request<{
        changeCustomerProfile: { profile: ProfileRef | null };
      }>(CHANGE_PROFILE, { id, profileId });
      return { ok: true, message: `Profile changed to ${c.profile?.name ?? 'none'}.` };
    });
  const renew = (force: boolean) =>
    act(async () => {
      // A renewal whose answer was lost (NETWORK) may have been charged: clicking again sends
      // the same key, so the server applies it once. Any answer ends the key.
      const same = renewKey.current?.id === id && renewKey.current.force === force;
      const key = same ? renewKey.current!.key : newIdempotencyKey('console-renew');
      renewKey.current = { id, force, key };
      let c: { expiresAt: string | null; balance: string };
      try {
        ({ renewCustomer: c } = await api.request<{
          renewCustomer: { expiresAt: string | null; balance: string };
        }>(RENEW, { id, force, idempotencyKey: key }));
      } catch (err) {
        if (toApiError(err).code !== 'NETWORK') renewKey.current = null;
        throw err;
      }
      renewKey.current = null;
      return {
        ok: true,
        message: `Renewed until ${formatDate(c.expiresAt)}. Balance: ${c.balance}.`,
      };
    });
  const suspendOrResume = () =>
    act(async () => {
      const resume = customer.suspended;
      await api.request(resume ? RESUME : SUSPEND, { id });
      return { ok: true, message: resume ? 'Customer resumed.' : 'Customer suspended.' };
    });
  const disconnect = () =>
    act(async () => {
      const { disconnectCustomer: r } = await api.request<{
        disconnectCustomer: DisconnectResult;
      }>(DISCONNECT, { id });
      const how = r.method === 'none' ? 'nothing sent' : `via ${r.method}`;
      const summary = r.ok ? 'Disconnected' : 'Not disconnected';
      return { ok: r.ok, message: `${summary} (${how})${r.message ? `: ${r.message}` : '.'}` };
    });

  const session = customer.currentSession;
  return (
    <section class="detail" data-testid="customer-detail" data-customer-id={customer.id}>
      <p>
        <a href="#/customers">← Customers</a>
      </p>
      <div class="page-head">
        <h1 data-testid="detail-username">{customer.username}</h1>
        <span class={`badge status-${customer.status.toLowerCase()}`} data-testid="detail-status">
          {STATUS_LABEL[customer.status]}
        </span>
        {loading && <span class="muted">Refreshing…</span>}
      </div>

      {generatedPassword && (
        <div class="alert alert-info" role="status">
          Generated password (shown only now, copy it):{' '}
          <code data-testid="generated-password">{generatedPassword}</code>
        </div>
      )}
      {error && <p class="alert alert-error">{error.message}</p>}

      <div class="grid">
        <div class="card">
          <h2>Account</h2>
          <dl>
            <dt>Account No</dt>
            <dd>{customer.accountNo}</dd>
            <dt>Username</dt>
            <dd>{customer.username}</dd>
            <dt>Phone</dt>
            <dd>{orDash(customer.phone)}</dd>
            <dt>Name</dt>
            <dd>{orDash(customer.name)}</dd>
            <dt>Joined</dt>
            <dd>{formatDate(customer.joinedAt)}</dd>
            <dt>Expires</dt>
            <dd>{customer.expiresAt ? formatDateTime(customer.expiresAt) : 'Never'}</dd>
            <dt>Profile</dt>
            <dd data-testid="detail-profile">{orDash(customer.profile?.name)}</dd>
            <dt>Balance</dt>
            <dd
              data-testid="detail-balance"
              class={customer.balance.startsWith('-') ? 'negative' : undefined}
            >
              {customer.balance}
            </dd>
            <dt>Data this month</dt>
            <dd data-testid="detail-usage">{usageLine(customer.usage)}</dd>
          </dl>
        </div>

        <div class="card" data-testid="current-session">
          <h2>Current session</h2>
          {session ? (
            <dl>
              <dt>IP Address</dt>
              <dd>{orDash(session.ipAddress)}</dd>
              <dt>MAC Address</dt>
              <dd class="mono">{orDash(session.macAddress)}</dd>
              <dt>Started</dt>
              <dd>{formatDateTime(session.startedAt)}</dd>
              <dt>Upload</dt>
              <dd>{formatBytes(session.uploadBytes)}</dd>
              <dt>Download</dt>
              <dd>{formatBytes(session.downloadBytes)}</dd>
              <dt>NAS / Router</dt>
              <dd>{nasName(session.nas, session.nasIpAddress)}</dd>
            </dl>
          ) : (
            <p class="muted">Offline</p>
          )}
        </div>

        <div class="card">
          <h2>Actions</h2>
          <div class="action-row">
            <label for="change-profile">Profile</label>
            <select
              id="change-profile"
              value={profileId}
              onChange={(e) => setProfileId(e.currentTarget.value)}
              disabled={!mayAct || busy}
              title={disabledTitle}
              data-testid="change-profile-select"
            >
              <option value="" disabled>
                Choose a profile
              </option>
              {data.profiles.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
            <button
              type="button"
              onClick={() => void changeProfile()}
              disabled={!mayAct || busy || !profileId || profileId === customer.profile?.id}
              title={disabledTitle}
              data-testid="action-change-profile"
            >
              Apply
            </button>
          </div>
          <div class="action-row">
            <button
              type="button"
              onClick={() => void renew(false)}
              disabled={!mayAct || busy}
              title={disabledTitle}
              data-testid="action-renew"
            >
              Renew
            </button>
            <button
              type="button"
              onClick={() => void suspendOrResume()}
              disabled={!mayAct || busy}
              title={disabledTitle}
              data-testid={customer.suspended ? 'action-resume' : 'action-suspend'}
            >
              {customer.suspended ? 'Resume' : 'Suspend'}
            </button>
            <button
              type="button"
              class="danger"
              onClick={() => void disconnect()}
              disabled={!mayAct || busy}
              title={disabledTitle}
              data-testid="action-disconnect"
            >
              Disconnect
            </button>
          </div>
          {outcome && (
            <div
              class={`alert ${outcome.ok ? 'alert-ok' : 'alert-error'}`}
              role="status"
              data-testid="action-result"
            >
              {outcome.message}
              {outcome.offerForce && (
                <button
                  type="button"
                  class="inline"
                  onClick={() => void renew(true)}
                  disabled={!mayAct || busy}
                  data-testid="action-renew-force"
                >
                  Renew anyway
                </button>
              )}
            </div>
          )}
        </div>
      </div>

      <SessionHistory key={customer.id} customerId={customer.id} newest={customer.sessions} />
    </section>
  );
}

interface OlderSessions {
  edges: { node: HistorySession }[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/**
 * The connection history: the detail query's newest page (current with its refetches), then
 * the older pages "Load more" reads after it. Those start with the newest page as it was at
 * the first click, so a session that new ones push out of the newest page stays listed.
 */
function SessionHistory(props: { customerId: string; newest: Connection<HistorySession> }) {
  const { customerId, newest } = props;
  const { api } = useSession();
  const [older, setOlder] = useState<OlderSessions | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  const inNewest = new Set(newest.edges.map((e) => e.node.id));
  const edges = older
    ? [...newest.edges, ...older.edges.filter((e) => !inNewest.has(e.node.id))]
    : newest.edges;
  const hasMore = older ? older.hasNextPage : newest.pageInfo.hasNextPage;

  const loadMore = async () => {
    const after = older ? older.endCursor : newest.pageInfo.endCursor;
    const before = older?.edges ?? newest.edges;
    setLoadingMore(true);
    setLoadError(null);
    try {
      const { customer } = await api.request<{
        customer: { sessions: Connection<HistorySession> } | null;
      }>(CUSTOMER_SESSIONS, { id: customerId, after });
      if (customer) {
        const page = customer.sessions;
        setOlder({
          edges: [...before, ...page.edges],
          endCursor: page.pageInfo.endCursor ?? after,
          hasNextPage: page.pageInfo.hasNextPage,
        });
      }
    } catch (err) {
      setLoadError(toApiError(err).message);
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <div class="card" data-testid="session-history">
      <h2>Connection history</h2>
      {edges.length > 0 && (
        <p class="muted" data-testid="history-count">
          {edges.length} of {Math.max(newest.totalCount, edges.length)} sessions
        </p>
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Start</th>
              <th scope="col">Stop</th>
              <th scope="col">Duration</th>
              <th scope="col" class="num">
                Upload
              </th>
              <th scope="col" class="num">
                Download
              </th>
              <th scope="col">Cause</th>
            </tr>
          </thead>
          <tbody>
            {edges.map(({ node: s }) => (
              <tr key={s.id} data-testid="history-row" data-session-id={s.id}>
                <td>{formatDateTime(s.startedAt)}</td>
                <td>{s.stoppedAt ? formatDateTime(s.stoppedAt) : 'Online'}</td>
                <td>{formatDuration(s.durationSeconds)}</td>
                <td class="num">{formatBytes(s.uploadBytes)}</td>
                <td class="num">{formatBytes(s.downloadBytes)}</td>
                <td>{orDash(s.terminateCause)}</td>
              </tr>
            ))}
            {edges.length === 0 && (
              <tr>
                <td colSpan={6} class="empty">
                  No sessions yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {loadError && <p class="alert alert-error">{loadError}</p>}
      {hasMore && (
        <p>
          <button
            type="button"
            onClick={() => void loadMore()}
            disabled={loadingMore}
            data-testid="history-load-more"
          >
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
    </div>
  );
}

/**
 * "1.2 GB of 1.0 GB, throttled (FUP) since <date and time>", "3.4 GB (no limit)"; over the
 * limit with no action (offline when it was crossed), what the next login gets.
 */
function usageLine(u: MonthUsage): string {
  const used = formatBytes(u.totalBytes);
  if (u.limitBytes === null) return `${used} (no limit)`;
  const line = `${used} of ${formatBytes(u.limitBytes)}`;
  if (u.capAction === 'THROTTLED')
    return `${line}, throttled (FUP) since ${formatDateTime(u.capActedAt)}`;
  if (u.capAction === 'DISCONNECTED') {
    return `${line}, disconnected at the limit on ${formatDateTime(u.capActedAt)}`;
  }
  const over = toNumber(u.totalBytes) >= toNumber(u.limitBytes);
  return over ? `${line}, over the limit (refused, or the FUP rate, at login)` : line;
}

/**
 * A fresh idempotency key. crypto.getRandomValues, not randomUUID: the console may be served
 * over plain HTTP on a LAN address, where browsers offer randomUUID only to secure pages.
 */
function newIdempotencyKey(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
