import { appendFileSync, mkdirSync, openSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';

/**
 * A whole test run's logs, kept for test/logs (no secret in any log line). With
 * RADGRAPH_TEST_LOG_DIR set (scripts/test-all.sh sets it), every test process of the
 * integration and e2e projects:
 *   - writes everything it prints (its apps' JSON log lines included) to <dir>/<pid>.log;
 *   - runs its apps at LOG_LEVEL=debug (startApp), so the check reads the most that radgraph
 *     ever logs;
 *   - notes every secret the tests hand to radgraph (noteSecret) in <dir>/secrets.txt.
 * On the terminal, only what is not a radgraph log line below error still shows.
 */
export const TEST_LOG_DIR = process.env.RADGRAPH_TEST_LOG_DIR || null;

/** Secrets shorter than this are not noted: too likely to appear by chance ("p1", "1"). */
const MIN_SECRET = 8;

export function noteSecret(secret: unknown): void {
  if (!TEST_LOG_DIR || typeof secret !== 'string' || secret.length < MIN_SECRET) return;
  if (/[\r\n]/.test(secret)) return;
  appendFileSync(path.join(TEST_LOG_DIR, 'secrets.txt'), `${secret}\n`);
}

/** Input field names whose values are secrets (a password, the NAS secret, a token, a key). */
const SECRET_KEY = /password|secret|token|^key$/i;

/** Notes the secrets among a GraphQL operation's variables, literals and answer. */
export function noteGraphqlSecrets(query: string, variables: unknown, answer: unknown): void {
  if (!TEST_LOG_DIR) return;
  for (const m of query.matchAll(/(password|secret)\s*:\s*"((?:[^"\\]|\\.)*)"/gi)) {
    noteSecret(JSON.parse(`"${m[2]}"`));
  }
  const walk = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      if (SECRET_KEY.test(key) || key === 'generatedPassword' || key === 'csv') {
        if (key === 'csv') noteCsvPasswords(value);
        else noteSecret(value);
      }
      return;
    }
    if (Array.isArray(value)) value.forEach((v) => walk(v, key));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(variables, '');
  walk(answer, '');
}

/** The password column of a customers CSV (quoted cells too). */
function noteCsvPasswords(csv: string): void {
  let records: string[][];
  try {
    const parsed: unknown = parseCsv(csv, { relax_column_count: true, skip_empty_lines: true });
    records = parsed as string[][];
  } catch {
    return; // a broken file, sent to see it refused
  }
  const [header, ...rows] = records;
  const at = header?.findIndex((h) => h.trim().toLowerCase() === 'password') ?? -1;
  if (at < 0) return;
  for (const row of rows) noteSecret(row[at]);
}

/** Installs the tee (jest setupFiles of the integration and e2e projects). */
export function teeTestLogs(): void {
  if (!TEST_LOG_DIR) return;
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  // One descriptor, written in order as the process prints: cheap, and nothing is lost when
  // the process ends.
  // setupFiles runs for every test file, but the process's streams are the same objects:
  // wrap them once.
  const marked = process.stdout as NodeJS.WriteStream & { radgraphTee?: boolean };
  if (marked.radgraphTee) return;
  marked.radgraphTee = true;
  const fd = openSync(path.join(TEST_LOG_DIR, `${process.pid}.log`), 'a');
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = (chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
      writeSync(fd, text);
      if (quiet(text)) {
        const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        done?.();
        return true;
      }
      return original(chunk, ...rest);
    };
  }
}

/** radgraph's JSON log lines below error: kept in the file, not shown. */
function quiet(text: string): boolean {
  if (!text.startsWith('{"level":"')) return false;
  return !/^\{"level":"(error|fatal)"/.test(text);
}
