// The shell: sign-in, the session (API client + live feed), the header and the routes.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiClient, toApiError } from './api';
import { LiveFeed, type LiveState } from './live';
import { SessionContext, useRoute, type Session } from './hooks';
import { VIEWER } from './queries';
import type { CreatedCustomer, Viewer } from './types';
import { SignIn } from './pages/SignIn';
import { OnlinePage } from './pages/OnlinePage';
import { CustomersPage } from './pages/CustomersPage';
import { CustomerDetailPage } from './pages/CustomerDetailPage';

const STORAGE_KEY = 'radgraph.apiKey';

type Auth =
  | { status: 'checking' }
  | { status: 'signed-out'; message?: string }
  | { status: 'signed-in'; session: Session };

const EXPIRED_MESSAGE =
  'Your API key is no longer accepted (it may have been revoked). Sign in again.';

async function fetchViewer(apiKey: string): Promise<Viewer> {
  const { viewer } = await new ApiClient(apiKey).request<{ viewer: Viewer }>(VIEWER);
  return viewer;
}

function readStoredKey(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function App() {
  const [auth, setAuth] = useState<Auth>(() =>
    readStoredKey() ? { status: 'checking' } : { status: 'signed-out' },
  );
  const current = useRef<Session | null>(null);

  const signOut = useCallback((message?: string) => {
    window.sessionStorage.removeItem(STORAGE_KEY);
    current.current?.live.dispose();
    current.current = null;
    setAuth({ status: 'signed-out', message });
  }, []);

  const start = useCallback(
    (apiKey: string, viewer: Viewer) => {
      let ended = false;
      const expire = () => {
        if (ended) return;
        ended = true;
        signOut(EXPIRED_MESSAGE);
      };
      const api = new ApiClient(apiKey, expire);
      // The socket closed for its key: a refused key signs out (expire), whatever page is open.
      const checkKey = () => void api.request(VIEWER).catch(() => undefined);
      const session: Session = { api, live: new LiveFeed(apiKey, expire, checkKey), viewer };
      current.current = session;
      setAuth({ status: 'signed-in', session });
    },
    [signOut],
  );

  const signIn = useCallback(
    async (apiKey: string) => {
      const viewer = await fetchViewer(apiKey);
      window.sessionStorage.setItem(STORAGE_KEY, apiKey);
      start(apiKey, viewer);
    },
    [start],
  );

  // A key kept from earlier in this tab: check it is still good.
  useEffect(() => {
    const stored = readStoredKey();
    if (!stored) return;
    fetchViewer(stored).then(
      (viewer) => start(stored, viewer),
      (err) => {
        const error = toApiError(err);
        signOut(error.code === 'UNAUTHENTICATED' ? EXPIRED_MESSAGE : error.message);
      },
    );
    return () => current.current?.live.dispose();
  }, [start, signOut]);

  switch (auth.status) {
    case 'checking':
      return <p class="centered muted">Checking your API key…</p>;
    case 'signed-out':
      return <SignIn onSignIn={signIn} message={auth.message} />;
    case 'signed-in':
      return (
        <SessionContext.Provider value={auth.session}>
          <Console session={auth.session} onSignOut={() => signOut()} />
        </SessionContext.Provider>
      );
  }
}

function Console({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  // A generated password, shown once on the new customer's page and forgotten on leaving it.
  const [created, setCreated] = useState<{ id: string; password: string } | null>(null);
  useEffect(() => {
    setCreated((c) => (c && route.page === 'customer' && route.id === c.id ? c : null));
  }, [route]);

  const onCreated = (customer: CreatedCustomer) => {
    if (customer.generatedPassword)
      setCreated({ id: customer.id, password: customer.generatedPassword });
    window.location.hash = `#/customers/${encodeURIComponent(customer.id)}`;
  };

  let page;
  switch (route.page) {
    case 'online':
      page = <OnlinePage />;
      break;
    case 'customers':
      page = <CustomersPage onCreated={onCreated} />;
      break;
    case 'customer':
      page = (
        <CustomerDetailPage
          key={route.id}
          id={route.id}
          generatedPassword={created?.id === route.id ? created.password : null}
        />
      );
      break;
  }

  const section = route.page === 'online' ? 'online' : 'customers';
  return (
    <div class="layout">
      <header class="topbar">
        <span class="brand">radgraph</span>
        <nav aria-label="Main">
          <a
            href="#/online"
            data-testid="nav-online"
            aria-current={section === 'online' ? 'page' : undefined}
          >
            Online
          </a>
          <a
            href="#/customers"
            data-testid="nav-customers"
            aria-current={section === 'customers' ? 'page' : undefined}
          >
            Customers
          </a>
        </nav>
        <LiveStatus live={session.live} />
        <span class="viewer">
          <span class="viewer-name">{session.viewer.name}</span>
          <span class={`role role-${session.viewer.role.toLowerCase()}`} data-testid="viewer-role">
            {session.viewer.role}
          </span>
        </span>
        <button type="button" onClick={onSignOut} data-testid="sign-out">
          Sign out
        </button>
      </header>
      <main class="content">{page}</main>
    </div>
  );
}

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  disconnected: 'Live feed lost, reconnecting…',
};

function LiveStatus({ live }: { live: LiveFeed }) {
  const [state, setState] = useState<LiveState>(live.current);
  useEffect(() => {
    setState(live.current);
    return live.onState(setState);
  }, [live]);
  return (
    <span
      class={`live live-${state}`}
      data-testid="live-status"
      data-state={state}
      role="status"
      title="Live session feed (graphql-ws)"
    >
      <span class="dot" aria-hidden="true" />
      {LIVE_TEXT[state]}
    </span>
  );
}
