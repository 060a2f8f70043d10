// Online Customers: the header counts, the filters and the live table.
import { useCallback, useState } from 'preact/hooks';
import { formatBytes, formatDateTime, nasLabel, nasName, orDash, sumBytes } from '../format';
import { useDebounced, useDebouncedCall, useQuery, useThrottle } from '../hooks';
import { localHeader, useLiveSessions } from '../online-sessions';
import { NAS_DEVICES, ONLINE_HEADER } from '../queries';
import type { ApiError } from '../api';
import type { NasRef, OnlineHeaderData } from '../types';
import { SearchField } from './SearchField';

const HEADER_REFRESH_MS = 2000;
/** The NAS menu is read again when the operator goes to it, at most this often. */
const NAS_MENU_REFRESH_MS = 5000;
/**
 * onlineSummary may be up to a second old (ONLINE_TOTALS_MAX_AGE_MS on the server): a refetch
 * right after an event can get a read from before it. One more this long after the last event
 * is sure to count it.
 */
const HEADER_SETTLE_MS = 1200;

export function OnlinePage() {
  const [searchText, setSearchText] = useState('');
  const search = useDebounced(searchText.trim(), 250);
  const [nasId, setNasId] = useState('');
  const header = useQuery<OnlineHeaderData>(ONLINE_HEADER);
  const nasDevices = useQuery<{ nasDevices: NasRef[] }>(NAS_DEVICES);
  // A NAS added, renamed or deleted since the page loaded shows as it is now.
  const refreshNasMenu = useThrottle(() => void nasDevices.refetch(), NAS_MENU_REFRESH_MS);
  const refetchHeader = useThrottle(() => void header.refetch(), HEADER_REFRESH_MS);
  const settleHeader = useDebouncedCall(refetchHeader, HEADER_SETTLE_MS);
  const refreshHeader = useCallback(() => {
    refetchHeader();
    settleHeader();
  }, [refetchHeader, settleHeader]);
  // Why the NAS filter went back to All NAS, until the operator picks one again.
  const [nasNotice, setNasNotice] = useState<string | null>(null);
  const chooseNas = (id: string) => {
    setNasNotice(null);
    setNasId(id);
  };
  // The selected NAS was deleted, or has a new address: the menu is read again either way.
  const onNasError = (err: ApiError) => {
    void nasDevices.refetch();
    if (err.code !== 'NOT_FOUND') return; // NAS_CHANGED: the filter follows the new address
    const gone = nasDevices.data?.nasDevices.find((n) => n.id === nasId);
    setNasId('');
    setNasNotice(
      `The NAS ${gone ? nasLabel(gone) : nasId} was deleted, so the NAS filter is back to All NAS.`,
    );
  };
  const { rows, totalCount, complete, loading, error } = useLiveSessions(
    search,
    nasId,
    refreshHeader,
    onNasError,
  );

  // While the table holds every open session its own counts are exact and immediate;
  // otherwise the header is onlineSummary and topSessions (refetched after events).
  const figures = complete ? localHeader(rows) : header.data;
  const summary = figures?.onlineSummary;
  return (
    <section aria-labelledby="online-title">
      <h1 id="online-title">Online Customers</h1>
      <div class="summary">
        <div class="card stat">
          <span class="stat-label">Connected</span>
          <span class="stat-value" data-testid="online-total">
            {summary ? summary.total : '…'}
          </span>
        </div>
        <div class="card" data-testid="online-by-nas">
          <h2>Sessions per NAS</h2>
          {summary && summary.byNas.length === 0 && <p class="muted">No open sessions.</p>}
          <ul class="plain">
            {summary?.byNas.map((n) => (
              <li key={n.nasIpAddress} data-nas-ip={n.nasIpAddress}>
                <span>{nasLabel(n.nas, n.nasIpAddress)}</span> <strong>{n.count}</strong>
              </li>
            ))}
          </ul>
        </div>
        <div class="card" data-testid="top-users">
          <h2>Top users (current session)</h2>
          {figures && figures.topSessions.length === 0 && <p class="muted">Nobody is online.</p>}
          <ol class="plain">
            {figures?.topSessions.map((s) => (
              <li key={s.id} data-username={s.username}>
                <span>{s.username}</span>{' '}
                <strong>{formatBytes(sumBytes(s.downloadBytes, s.uploadBytes))}</strong>
              </li>
            ))}
          </ol>
        </div>
      </div>
      {header.error && <p class="alert alert-error">{header.error.message}</p>}

      <div class="toolbar">
        <SearchField
          placeholder="Username, IP or MAC"
          value={searchText}
          onInput={setSearchText}
          testId="online-search"
        />
        <label class="field">
          <span>NAS</span>
          <select
            value={nasId}
            onChange={(e) => chooseNas(e.currentTarget.value)}
            onFocus={refreshNasMenu}
            data-testid="online-nas-filter"
          >
            <option value="">All NAS</option>
            {nasDevices.data?.nasDevices.map((n) => (
              <option key={n.id} value={n.id}>
                {nasLabel(n)}
              </option>
            ))}
          </select>
        </label>
        <span class="muted" aria-live="polite" data-testid="online-count">
          {loading ? 'Loading…' : `${rows.length} shown`}
          {!complete && totalCount !== null && totalCount > rows.length && ` of ${totalCount}`}
        </span>
      </div>
      {nasNotice && (
        <p class="alert alert-info" role="status" data-testid="online-nas-notice">
          {nasNotice}
        </p>
      )}
      {error && <p class="alert alert-error">{error}</p>}

      <div class="table-wrap">
        <table data-testid="online-table">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">IP Address</th>
              <th scope="col">MAC Address</th>
              <th scope="col">Session Start Time</th>
              <th scope="col" class="num">
                Upload
              </th>
              <th scope="col" class="num">
                Download
              </th>
              <th scope="col">NAS / Router</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr
                key={s.id}
                data-testid="online-row"
                data-username={s.username}
                data-session-id={s.id}
              >
                <td data-col="username">{s.username}</td>
                <td data-col="ip">{orDash(s.ipAddress)}</td>
                <td data-col="mac" class="mono">
                  {orDash(s.macAddress)}
                </td>
                <td data-col="start">{formatDateTime(s.startedAt)}</td>
                <td data-col="upload" class="num">
                  {formatBytes(s.uploadBytes)}
                </td>
                <td data-col="download" class="num">
                  {formatBytes(s.downloadBytes)}
                </td>
                <td data-col="nas" title={s.nas?.shortname ?? undefined}>
                  {nasName(s.nas, s.nasIpAddress)}
                </td>
              </tr>
            ))}
            {!loading && rows.length === 0 && (
              <tr>
                <td colSpan={7} class="empty">
                  {search || nasId ? 'No session matches.' : 'Nobody is online.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
