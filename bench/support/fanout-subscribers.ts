/**
 * The subscribers of bench/fanout.ts, in a process of their own (forked through ts-node), so
 * that reading 1,000 WebSockets shares an event loop with neither radgraph nor the packets'
 * sender. Each subscriber is its own graphql-ws client and WebSocket, authenticated with
 * connectionParams. The parent sends `start` (the subscribers and their operation), gets
 * `progress` every 250 ms, and sends `finish`: the process writes every event it received to a
 * file (see readDeliveries), answers `done` and exits.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface SubscriberSpec {
  /** The operation's variables ({ nasId }, { nasId, ms }). */
  variables: Record<string, unknown>;
  /** The NAS name every event must carry (session.nas.name), or null for all. */
  nasName: string | null;
}

export type ToSubscribers =
  | { type: 'start'; url: string; token: string; query: string; subscribers: SubscriberSpec[] }
  | { type: 'finish'; file: string };

export interface SubscriberProgress {
  /** Sockets that got connection_ack. */
  connected: number;
  /** Subscribers that received at least one event. */
  receiving: number;
  /** WebSocket `next` messages received, and the events they held. */
  messages: number;
  events: number;
  /** Sockets that closed after they connected (the server dropped them). */
  closed: number;
  /** Subscriptions that ended (complete or error) before `finish`. */
  ended: number;
  /** Events outside the subscriber's filter (another NAS's session). */
  wrong: number;
  /** Receive time of the last message (ms since the epoch, sub-millisecond), or 0. */
  lastAt: number;
}

export type FromSubscribers =
  | { type: 'progress'; progress: SubscriberProgress }
  | { type: 'error'; message: string }
  | { type: 'done'; progress: SubscriberProgress };

/** Every event a subscriber received: which subscriber, session id, uploadBytes, when. */
export interface Deliveries {
  count: number;
  at: Float64Array;
  upload: Float64Array;
  session: Uint32Array;
  subscriber: Uint16Array;
}

/** Bytes per delivery in the file: at, upload (float64), session (uint32), subscriber (uint16). */
const RECORD_BYTES = 8 + 8 + 4 + 2;

/** Reads the file the subscriber process wrote at `finish`. */
export function readDeliveries(file: string): Deliveries {
  const bytes = readFileSync(file);
  // A copy on an ArrayBuffer of its own: the float64 views need 8-byte alignment.
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  const count = bytes.length / RECORD_BYTES;
  return {
    count,
    at: new Float64Array(buffer, 0, count),
    upload: new Float64Array(buffer, 8 * count, count),
    session: new Uint32Array(buffer, 16 * count, count),
    subscriber: new Uint16Array(buffer, 20 * count, count),
  };
}

/** Deliveries kept in growing typed arrays (millions of them in a run). */
class Recorder {
  private size = 0;
  private at = new Float64Array(1 << 16);
  private upload = new Float64Array(1 << 16);
  private session = new Uint32Array(1 << 16);
  private subscriber = new Uint16Array(1 << 16);

  add(subscriber: number, session: number, upload: number, at: number): void {
    if (this.size === this.at.length) this.grow();
    this.at[this.size] = at;
    this.upload[this.size] = upload;
    this.session[this.size] = session;
    this.subscriber[this.size] = subscriber;
    this.size++;
  }

  write(file: string): void {
    const n = this.size;
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(this.at.buffer, 0, 8 * n),
        Buffer.from(this.upload.buffer, 0, 8 * n),
        Buffer.from(this.session.buffer, 0, 4 * n),
        Buffer.from(this.subscriber.buffer, 0, 2 * n),
      ]),
    );
  }

  private grow(): void {
    const n = this.at.length * 2;
    const copy = <T extends Float64Array | Uint32Array | Uint16Array>(a: T, into: T) => {
      into.set(a);
      return into;
    };
    this.at = copy(this.at, new Float64Array(n));
    this.upload = copy(this.upload, new Float64Array(n));
    this.session = copy(this.session, new Uint32Array(n));
    this.subscriber = copy(this.subscriber, new Uint16Array(n));
  }
}

interface EventData {
  session: { id: string; uploadBytes: string; nas: { name: string } | null };
}

const now = () => performance.timeOrigin + performance.now();

/** Connections opened at once while starting. */
const CONNECT_CONCURRENCY = 50;

function run(): void {
  const send = (msg: FromSubscribers) => process.send?.(msg);
  const recorder = new Recorder();
  const clients: Client[] = [];
  const progress: SubscriberProgress = {
    connected: 0,
    receiving: 0,
    messages: 0,
    events: 0,
    closed: 0,
    ended: 0,
    wrong: 0,
    lastAt: 0,
  };
  let finishing = false;
  let errorSent = false;
  const fail = (err: unknown) => {
    if (errorSent || finishing) return;
    errorSent = true;
    const list = Array.isArray(err) ? err : [err];
    send({
      type: 'error',
      message: list
        .map((e: any) =>
          typeof e?.message === 'string' ? e.message : `closed ${e?.code} ${e?.reason ?? ''}`,
        )
        .join('; '),
    });
  };

  const subscribe = (
    index: number,
    spec: SubscriberSpec,
    start: Extract<ToSubscribers, { type: 'start' }>,
  ) =>
    new Promise<void>((connected) => {
      let open = false;
      let received = false;
      const client = createClient({
        url: start.url,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${start.token}` },
        on: {
          connected: () => {
            open = true;
            progress.connected++;
            connected();
          },
          closed: () => {
            if (open && !finishing) progress.closed++;
            open = false;
            connected();
          },
        },
      });
      clients.push(client);
      client.subscribe<Record<string, EventData | EventData[]>>(
        { query: start.query, variables: spec.variables },
        {
          next: (value) => {
            const at = now();
            if (value.errors) return fail(value.errors);
            const data = Object.values(value.data ?? {})[0];
            const events = data === undefined ? [] : Array.isArray(data) ? data : [data];
            progress.messages++;
            progress.events += events.length;
            progress.lastAt = at;
            if (!received && events.length > 0) {
              received = true;
              progress.receiving++;
            }
            for (const e of events) {
              if (spec.nasName !== null && e.session.nas?.name !== spec.nasName) progress.wrong++;
              recorder.add(index, Number(e.session.id), Number(e.session.uploadBytes), at);
            }
          },
          error: (err) => {
            if (!finishing) progress.ended++;
            fail(err);
          },
          complete: () => {
            if (!finishing) progress.ended++;
          },
        },
      );
    });

  const start = async (msg: Extract<ToSubscribers, { type: 'start' }>) => {
    const ticker = setInterval(() => send({ type: 'progress', progress }), 250);
    ticker.unref();
    for (let i = 0; i < msg.subscribers.length; i += CONNECT_CONCURRENCY) {
      const batch = msg.subscribers.slice(i, i + CONNECT_CONCURRENCY);
      await Promise.all(batch.map((spec, k) => subscribe(i + k, spec, msg)));
    }
  };

  const finish = async (file: string) => {
    finishing = true;
    recorder.write(file);
    send({ type: 'done', progress });
    await Promise.all(clients.map(async (c) => c.dispose()));
    process.disconnect?.();
  };

  process.on('message', (msg: ToSubscribers) => {
    const work = msg.type === 'start' ? start(msg) : finish(msg.file);
    work.catch((err: Error) => {
      send({ type: 'error', message: err.stack ?? err.message });
    });
  });
  // The parent is gone (Ctrl-C, a failure): nothing is left to report to.
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) run();
