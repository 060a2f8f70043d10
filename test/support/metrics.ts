import type { RunningApp } from './app';

/** One scrape of GET /metrics: each sample's value by `name{labels}` as Prometheus prints it. */
export type Scrape = Map<string, number>;

export async function scrapeMetrics(app: Pick<RunningApp, 'url'>, token?: string): Promise<Scrape> {
  const res = await fetch(`${app.url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status} ${await res.text()}`);
  const samples: Scrape = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** How much a sample grew between two scrapes (a sample missing before counts as 0). */
export const grew = (before: Scrape, after: Scrape, sample: string): number =>
  (after.get(sample) ?? 0) - (before.get(sample) ?? 0);
