import type { CoaResult } from '../../radius/coa/coa-client';
import { SilentNases } from './silent-nases';

const timeout: CoaResult = { ok: false, kind: 'timeout', attempts: 3, message: 'no answer' };
const nak: CoaResult = { ok: false, kind: 'nak', attempts: 1, errorCause: 503, message: 'NAK' };
const ack: CoaResult = { ok: true, kind: 'ack', attempts: 1, message: 'ACK' };
const error: CoaResult = { ok: false, kind: 'error', attempts: 0, message: 'EHOSTUNREACH' };

describe('SilentNases', () => {
  it('gives up on a NAS after the limit of timeouts in a row, and on that NAS only', () => {
    const s = new SilentNases(3);
    s.record('10.0.0.1', timeout);
    s.record('10.0.0.2', timeout);
    s.record('10.0.0.1', timeout);
    expect(s.givenUp('10.0.0.1')).toBe(false);
    s.record('10.0.0.1', timeout);
    expect(s.givenUp('10.0.0.1')).toBe(true);
    expect(s.givenUp('10.0.0.2')).toBe(false);
  });

  it('counts only timeouts in a row: an ACK or a NAK is an answer, an error is neither', () => {
    const s = new SilentNases(2);
    s.record('n', timeout);
    s.record('n', nak);
    s.record('n', timeout);
    expect(s.givenUp('n')).toBe(false);
    s.record('n', error);
    s.record('n', timeout);
    expect(s.givenUp('n')).toBe(true);
    // A late answer from a request in flight: it answers after all, and is tried again.
    s.record('n', ack);
    expect(s.givenUp('n')).toBe(false);
  });

  it('never gives up with limit 0', () => {
    const s = new SilentNases(0);
    for (let i = 0; i < 100; i++) s.record('n', timeout);
    expect(s.givenUp('n')).toBe(false);
  });

  it('says why a session was not tried, and sums them per NAS', () => {
    const s = new SilentNases(4);
    for (let i = 0; i < 4; i++) s.record('10.0.0.1', timeout);
    expect(s.skip('10.0.0.1')).toBe(
      'not tried: NAS 10.0.0.1 did not answer 4 CoA-Requests in a row',
    );
    s.skip('10.0.0.1');
    expect(s.summaries()).toEqual([
      'NAS 10.0.0.1 did not answer 4 CoA-Requests in a row; its remaining 2 session(s) were not tried',
    ]);
  });
});
