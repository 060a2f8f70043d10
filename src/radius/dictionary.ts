import * as path from 'node:path';
import radius from 'radius';

/** MikroTik's dictionary, shipped with radgraph (the `radius` package has no vendor dictionaries). */
export const MIKROTIK_DICTIONARY = path.join(__dirname, 'dictionaries', 'dictionary.mikrotik');
/** Value names IANA assigned later (NAS-Port-Type FTTP, …), named as FreeRADIUS names them. */
export const IANA_VALUES_DICTIONARY = path.join(
  __dirname,
  'dictionaries',
  'dictionary.iana-values',
);

let loaded = false;

/** Adds radgraph's vendor dictionaries to the `radius` package, once per process. */
export function loadRadiusDictionaries(): void {
  if (loaded) return;
  radius.add_dictionary(MIKROTIK_DICTIONARY);
  radius.add_dictionary(IANA_VALUES_DICTIONARY);
  // The package reads its dictionaries once, at its first encode/decode: make sure ours are in.
  radius.unload_dictionaries();
  loaded = true;
}
