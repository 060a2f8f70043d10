// Small hooks shared by the pages: the signed-in session, hash routing, debouncing, queries.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { toApiError, type ApiClient, type ApiError } from './api';
import type { LiveFeed } from './live';
import type { Role, Viewer } from './types';

export interface Session {
  api: ApiClient;
  live: LiveFeed;
  viewer: Viewer;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}

/** Whether a role may run the customer and session mutations. */
export function canOperate(role: Role): boolean {
  return role === 'OPERATOR' || role === 'ADMIN';
}

export type Route = { page: 'online' } | { page: 'customers' } | { page: 'customer'; id: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const detail = /^\/customers\/([^/]+)$/.exec(path);
  if (detail) return { page: 'customer', id: decodeURIComponent(detail[1]) };
  if (path === '/customers') return { page: 'customers' };
  return { page: 'online' };
}

export function navigate(path: string): void {
  window.location.hash = `#${path}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The value, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * Calls fn at most once per `ms`: a call inside the window runs once when it ends. The
 * returned function keeps its identity; the latest fn is used.
 */
export function useThrottle(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const last = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    const wait = last.current + ms - Date.now();
    const run = () => {
      timer.current = undefined;
      last.current = Date.now();
      fnRef.current();
    };
    if (wait <= 0) run();
    else timer.current = window.setTimeout(run, wait);
  }, [ms]);
}

/**
 * Calls fn once `ms` after the last call (each call starts the wait again). The returned
 * function keeps its identity; the latest fn is used; nothing runs after unmount.
 */
export function useDebouncedCall(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => fnRef.current(), ms);
  }, [ms]);
}

export interface QueryState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  refetch: () => Promise<void>;
}

/** Runs a query whenever its variables change; only the latest answer is kept. */
export function useQuery<T>(query: string, variables?: Record<string, unknown>): QueryState<T> {
  const { api } = useSession();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const key = JSON.stringify(variables ?? {});
  const varsRef = useRef(variables);
  varsRef.current = variables;

  const refetch = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const result = await api.request<T>(query, varsRef.current);
      if (mine !== seq.current) return;
      setData(result);
      setError(null);
    } catch (err) {
      if (mine !== seq.current) return;
      setError(toApiError(err));
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [api, query]);

  useEffect(() => {
    void refetch();
    return () => {
      seq.current++; // drop answers that arrive after unmount or a newer request
    };
  }, [refetch, key]);

  return { data, error, loading, refetch };
}
