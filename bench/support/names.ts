import { capitalize, type Random } from './random';

/** Kenyan first and last names, for usernames and customer names. */
export const FIRST_NAMES = [
  'john', 'mary', 'peter', 'grace', 'james', 'faith', 'joseph', 'mercy', 'david', 'esther',
  'daniel', 'ann', 'samuel', 'jane', 'paul', 'lucy', 'brian', 'caroline', 'kevin', 'joyce',
  'dennis', 'purity', 'collins', 'winnie', 'victor', 'sharon', 'kelvin', 'naomi', 'moses',
  'beatrice', 'stephen', 'eunice', 'george', 'janet', 'charles', 'gladys', 'francis', 'lilian',
  'wanjiku', 'akinyi', 'otieno', 'kiprono', 'njeri', 'wambui', 'chebet', 'atieno', 'mutua',
  'kamau', 'auma', 'kiplagat',
]; // prettier-ignore
export const LAST_NAMES = [
  'kamau', 'wanjiru', 'otieno', 'ochieng', 'mwangi', 'njoroge', 'kariuki', 'mutua', 'kiprop',
  'chebet', 'wambua', 'omondi', 'odhiambo', 'kimani', 'maina', 'githinji', 'nyambura', 'korir',
  'rotich', 'langat', 'mutiso', 'musyoka', 'wekesa', 'barasa', 'wafula', 'simiyu', 'achieng',
  'onyango', 'owino', 'cheruiyot', 'kiptoo', 'jepkosgei', 'ndungu', 'gitau', 'waweru', 'macharia',
  'kibet', 'koech', 'mohamed', 'hassan', 'ali', 'abdi', 'juma', 'said', 'okoth', 'mbugua',
  'nduta', 'wairimu', 'muthoni', 'kilonzo',
]; // prettier-ignore

/**
 * A username `first.last<digits>` (one in ten `First.Last<digits>`) that is not in `taken`,
 * which it joins. `taken` holds lower case: the unique indexes compare case-insensitively
 * (utf8mb4_general_ci).
 */
export function uniqueUsername(r: Random, first: string, last: string, taken: Set<string>): string {
  let username: string;
  do {
    const base = r.rand() < 0.1 ? `${capitalize(first)}.${capitalize(last)}` : `${first}.${last}`;
    username = `${base}${r.between(1, r.rand() < 0.5 ? 99 : 9999)}`;
  } while (taken.has(username.toLowerCase()));
  taken.add(username.toLowerCase());
  return username;
}
