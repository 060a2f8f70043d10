// Display helpers: byte counts, dates, durations, labels.
import type { BigIntValue, CustomerStatus, NasRef } from './types';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** A BigInt scalar as a number (exact up to 2^53, close enough beyond for display). */
export function toNumber(value: BigIntValue | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Bytes, base 1024: "512 B", "3 KB", "1.5 MB", "2.0 GB", "1.2 TB". B and KB are whole
 * numbers; MB and above have one decimal.
 */
export function formatBytes(value: BigIntValue | null | undefined): string {
  const digits = (unit: number) => (unit >= 2 ? 1 : 0);
  let n = Math.max(0, toNumber(value));
  let unit = 0;
  // Move up while this unit would show 1024 or more once rounded.
  while (unit < UNITS.length - 1 && Number(n.toFixed(digits(unit))) >= 1024) {
    n /= 1024;
    unit += 1;
  }
  return `${n.toFixed(digits(unit))} ${UNITS[unit]}`;
}

/** The sum of two BigInt scalars. */
export function sumBytes(a: BigIntValue, b: BigIntValue): number {
  return toNumber(a) + toNumber(b);
}

function parseDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Local date and time, e.g. "3 Mar 2026, 14:05:09". */
export function formatDateTime(value: string | null | undefined): string {
  const d = parseDate(value);
  if (!d) return '—';
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** Local date, e.g. "3 Mar 2026". */
export function formatDate(value: string | null | undefined): string {
  const d = parseDate(value);
  if (!d) return '—';
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** Seconds as "2d 3h 04m", "1h 02m 03s", "4m 05s" or "9s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days}d ${hours}h ${pad(minutes)}m`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m ${pad(secs)}s`;
  if (minutes > 0) return `${minutes}m ${pad(secs)}s`;
  return `${secs}s`;
}

/** The NAS column: the nas row's name (its nasname), else the session's NAS-IP-Address. */
export function nasName(nas: NasRef | null, nasIpAddress: string): string {
  return nas?.name ?? nasIpAddress;
}

/** A NAS for menus and summaries: "shortname (name)" when it has a short name. */
export function nasLabel(nas: NasRef | null, nasIpAddress?: string): string {
  const name = nas?.name ?? nasIpAddress ?? '';
  return nas?.shortname ? `${nas.shortname} (${name})` : name;
}

export const STATUS_LABEL: Record<CustomerStatus, string> = {
  ONLINE: 'Online',
  OFFLINE: 'Offline',
  EXPIRED: 'Expired',
  SUSPENDED: 'Suspended',
};

/** "-" for an empty value. */
export function orDash(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '—' : value;
}
