import { buildSchema, parse } from 'graphql';
import { subscribeSharingPayloads } from './shared-subscribe';

/** A schema whose subscription yields the payloads a test pushes, counting field executions. */
function fixture() {
  const schema = buildSchema(`
    type Query { ok: Boolean }
    type Item { id: ID! label: String! }
    type Subscription { items: [Item!]! }
  `);
  let labels = 0;
  const streams: Array<(payload: object) => void> = [];
  const source = {
    subscribe: () => {
      const queue: object[] = [];
      let wake: (() => void) | null = null;
      streams.push((p) => {
        queue.push(p);
        wake?.();
      });
      return {
        async next() {
          while (queue.length === 0) await new Promise<void>((r) => (wake = r));
          return { value: queue.shift(), done: false };
        },
        return: () => Promise.resolve({ value: undefined, done: true }),
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
  type Fields = { getFields(): Record<string, { resolve?: unknown; subscribe?: unknown }> };
  const items = (schema.getType('Subscription') as unknown as Fields).getFields().items;
  items.subscribe = source.subscribe;
  items.resolve = (payload: unknown) => payload; // the batch itself, as SessionEventsResolver does
  (schema.getType('Item') as unknown as Fields).getFields().label.resolve = (item: {
    id: string;
  }) => `${++labels}:${item.id}`;
  return { schema, streams, executions: () => labels };
}

async function open(f: ReturnType<typeof fixture>, query: string) {
  const result = await subscribeSharingPayloads({
    schema: f.schema,
    document: parse(query),
  });
  if (!(Symbol.asyncIterator in result)) throw new Error(JSON.stringify(result));
  return result;
}

describe('subscribeSharingPayloads', () => {
  it('executes one payload once per distinct operation, however many subscribers get it', async () => {
    const f = fixture();
    const subs = await Promise.all(
      Array.from({ length: 50 }, () => open(f, 'subscription { items { id label } }')),
    );
    const other = await open(f, 'subscription { items { label } }');
    const nexts = [...subs, other].map((s) => s.next());
    const batch = [{ id: 'a' }, { id: 'b' }];
    for (const push of f.streams) push(batch); // the same object to everyone, as the bus does
    const results = await Promise.all(nexts);
    // 2 items for the first operation (shared by 50) + 2 for the other one.
    expect(f.executions()).toBe(4);
    expect(results[0].value).toEqual({
      data: {
        items: [
          { id: 'a', label: '1:a' },
          { id: 'b', label: '2:b' },
        ],
      },
    });
    expect(new Set(results.slice(0, 50).map((r) => JSON.stringify(r.value))).size).toBe(1);
    expect(results[50].value).toEqual({ data: { items: [{ label: '3:a' }, { label: '4:b' }] } });
  });

  it('executes a different payload again, and ends the source when the subscriber leaves', async () => {
    const f = fixture();
    const sub = await open(f, 'subscription { items { id label } }');
    const first = sub.next();
    f.streams[0]([{ id: 'x' }]);
    await first;
    const second = sub.next();
    f.streams[0]([{ id: 'x' }]); // equal, but another payload: executed again
    expect((await second).value).toEqual({ data: { items: [{ id: 'x', label: '2:x' }] } });
    expect(await sub.return(undefined)).toEqual({ value: undefined, done: true });
  });
});
