import {
  createSourceEventStream,
  execute,
  print,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Per published payload (an event, a batch): its result per distinct operation. */
const results = new WeakMap<object, Map<string, Result>>();

/**
 * graphql-ws's `subscribe`, with payloads built once per distinct operation instead of once
 * per subscriber. graphql-js executes a subscription's selection set for every event and
 * every subscriber; here subscribers that receive the same payload object (one event, or one
 * batch pushed to a whole group, see SessionEventBus) with the same document, variables and
 * operation name share one result. That holds because nothing under a subscription depends
 * on the caller: roles are checked on the subscription field itself, when it starts.
 */
export async function subscribeSharingPayloads(
  args: ExecutionArgs,
): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  const key = `${args.operationName ?? ''}\u0000${print(args.document)}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  return mapAsync(source, (payload): Result => {
    if (payload === null || typeof payload !== 'object') {
      return execute({ ...args, rootValue: payload });
    }
    let byKey = results.get(payload);
    if (!byKey) results.set(payload, (byKey = new Map<string, Result>()));
    let result = byKey.get(key);
    if (result === undefined) {
      result = execute({ ...args, rootValue: payload });
      byKey.set(key, result);
    }
    return result;
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

/** Maps an async iterable, passing return() through (graphql-ws ends subscriptions with it). */
function mapAsync<T, R>(
  iterable: AsyncIterable<T>,
  fn: (value: T) => R | Promise<R>,
): AsyncGenerator<R> {
  const it = iterable[Symbol.asyncIterator]();
  const done = (): IteratorResult<R> => ({ value: undefined, done: true });
  const generator: AsyncGenerator<R> = {
    async next() {
      const r = await it.next();
      return r.done ? done() : { value: await fn(r.value), done: false };
    },
    async return() {
      await it.return?.();
      return done();
    },
    async throw(err: unknown) {
      if (it.throw) await it.throw(err);
      throw err;
    },
    [Symbol.asyncIterator]() {
      return generator;
    },
  };
  return generator;
}
