import * as path from 'node:path';
import radius from 'radius';

/** MikroTik's dictionary, shipped with radgraph (the `radius` package has no vendor dictionaries). */
export const MIKROTIK_DICTIONARY = path.join(__dirname, 'dictionaries', 'dictionary.mikrotik');

let loaded = false;

/** Adds radgraph's vendor dictionaries to the `radius` package, once per process. */
export function loadRadiusDictionaries(): void {
  if (loaded) return;
  radius.add_dictionary(MIKROTIK_DICTIONARY);
  loaded = true;
}
