import { parseRateLimit } from './rate-limit';

describe('parseRateLimit', () => {
  it.each([
    ['10M/10M', 10_000, 10_000],
    ['512k/2M', 512, 2_000],
    ['2M/4M 4M/8M 1M/2M 8/8 8', 2_000, 4_000],
    ['  1M/2M   4M/8M ', 1_000, 2_000],
    ['2000000/4000000', 2_000, 4_000],
    ['5M', 5_000, 5_000],
    ['1024k/2048k', 1_024, 2_048],
    ['1G/1G', 1_000_000, 1_000_000],
    ['1.5M/3M', 1_500, 3_000],
  ])('reads %s as upload %i, download %i kbit/s', (value, up, down) => {
    expect(parseRateLimit(value)).toEqual({
      ok: true,
      uploadRateKbps: up,
      downloadRateKbps: down,
    });
  });

  it.each([
    ['', /not rx\/tx/],
    ['1M/2M/3M', /not rx\/tx/],
    ['fast/slow', /"fast" is not a rate/],
    ['10 Mbps', /"10" is not a whole number|is not a rate/],
    ['0/0', /no limit/],
    ['1500/2M', /"1500" is not a whole number of kbit\/s/],
    ['999G/1M', /over/],
  ])('refuses %j and says why', (value, reason) => {
    const r = parseRateLimit(value);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
});
