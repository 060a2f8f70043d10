/** Seeded randomness, so a bench seeds the same data and picks the same terms every run. */

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Random {
  /** [0, 1) */
  rand(): number;
  pick<T>(xs: readonly T[]): T;
  /** An integer from lo to hi, both included. */
  between(lo: number, hi: number): number;
  /** n random decimal digits. */
  digitsOf(n: number): string;
  /** Shuffles xs in place (Fisher-Yates) and returns it. */
  shuffle<T>(xs: T[]): T[];
  /** Mixed case, as people type: "Mary.Wan", "mARY.wAN", "MARY.WAN" or as it is. */
  mixCase(s: string): string;
}

export const capitalize = (s: string) => s[0].toUpperCase() + s.slice(1);

export function random(seed: number): Random {
  const rand = prng(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  return {
    rand,
    between,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)],
    digitsOf: (n: number) => Array.from({ length: n }, () => between(0, 9)).join(''),
    shuffle<T>(xs: T[]): T[] {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    },
    mixCase(s: string): string {
      switch (between(0, 3)) {
        case 0:
          return s.toUpperCase();
        case 1:
          return [...s].map((ch) => (rand() < 0.5 ? ch.toUpperCase() : ch.toLowerCase())).join('');
        case 2:
          return capitalize(s.toLowerCase());
        default:
          return s;
      }
    },
  };
}
