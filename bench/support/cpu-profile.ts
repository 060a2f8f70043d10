/**
 * A CPU profile of another Node process over a chosen stretch of time, through the inspector
 * protocol: start that process with `--inspect=127.0.0.1:0`, give attachProfiler() what it
 * printed, then start() and stop() around the work.
 */
import WebSocket from 'ws';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

/** V8's CPU profile (Profiler.stop's result). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Profiler {
  start(): Promise<void>;
  stop(): Promise<CpuProfile>;
  close(): void;
}

/** Connects to the inspector whose "Debugger listening on ws://…" line is in `output`. */
export async function attachProfiler(output: string): Promise<Profiler> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`no inspector URL in the process's output:\n${output}`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: any };
    const w = msg.id === undefined ? undefined : waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id!);
    if (msg.error) w.reject(new Error(`inspector: ${JSON.stringify(msg.error)}`));
    else w.resolve(msg.result);
  });
  const call = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async start() {
      await call('Profiler.enable');
      await call('Profiler.setSamplingInterval', { interval: 200 }); // µs
      await call('Profiler.start');
    },
    async stop() {
      const { profile } = await call<{ profile: CpuProfile }>('Profiler.stop');
      return profile;
    },
    close: () => ws.close(),
  };
}

/** Where a function lives: "mysql2", "typeorm", "radgraph src/radius/…", "node:dgram", "(gc)"… */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName || '(anonymous)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  const own = /\/dist\/(src\/.+?)\.js$/.exec(url) ?? /\/(src\/.+?)\.ts$/.exec(url);
  if (own) return `radgraph ${own[1].split('/').slice(0, -1).join('/')}`;
  if (url.startsWith('node:')) return url;
  return url;
}

export interface ProfileSummary {
  /** Sampled milliseconds, idle excluded. */
  busyMs: number;
  idleMs: number;
  /** Self time by area, largest first. */
  areas: Array<{ area: string; ms: number }>;
  /** Self time by function, largest first. */
  functions: Array<{ name: string; ms: number }>;
}

/** Self time per area and per function. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let idleMs = 0;
  let busyMs = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)' && frame.url === '') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const file = frame.url.replace(/^.*\/(node_modules|dist)\//, '');
    const name = `${frame.functionName || '(anonymous)'}${file ? ` (${file}:${frame.lineNumber + 1})` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    busyMs,
    idleMs,
    areas: sorted(areas).map(([area, ms]) => ({ area, ms })),
    functions: sorted(functions).map(([name, ms]) => ({ name, ms })),
  };
}
