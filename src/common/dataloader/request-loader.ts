import DataLoader from 'dataloader';
import { IN_LIST_MAX } from '../sql/in-list';

const registry = new WeakMap<object, Map<string, DataLoader<unknown, unknown>>>();

/**
 * A DataLoader per GraphQL request (keyed on its context object) and per name, so a list of
 * N customers costs one query per field, not N. It batches but does not cache: a
 * subscription's context lives as long as the subscription, and each event must read fresh
 * rows. A batch holds at most IN_LIST_MAX keys; more are read in several.
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
      // A batch's keys go into one IN list: a subscription batch (a NAS reboot's thousands of
      // STOPPED events) must not make one bigger than SQLite binds. A page (500) stays whole.
      { cache: false, maxBatchSize: IN_LIST_MAX },
    );
    loaders.set(name, loader);
  }
  return loader;
}
