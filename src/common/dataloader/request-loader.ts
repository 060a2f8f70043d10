import DataLoader from 'dataloader';

const registry = new WeakMap<object, Map<string, DataLoader<unknown, unknown>>>();

/**
 * A DataLoader per GraphQL request (keyed on its context object) and per name, so a list of
 * N customers costs one query per field, not N. It batches but does not cache: a
 * subscription's context lives as long as the subscription, and each event must read fresh
 * rows.
 */
export function requestLoader<K, V>(
  context: object,
  name: string,
  batch: (keys: readonly K[]) => Promise<Map<K, V>>,
  missing: V,
): DataLoader<K, V> {
  let loaders = registry.get(context);
  if (!loaders) {
    loaders = new Map();
    registry.set(context, loaders);
  }
  let loader = loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = new DataLoader<K, V>(
      async (keys) => {
        const found = await batch(keys);
        return keys.map((key) => (found.has(key) ? (found.get(key) as V) : missing));
      },
      { cache: false },
    );
    loaders.set(name, loader);
  }
  return loader;
}
