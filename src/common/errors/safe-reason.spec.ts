import { safeReason } from './safe-reason';

describe('safeReason', () => {
  it("gives a connection error's code, never its message with the address", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:6379'), {
      code: 'ECONNREFUSED',
    });
    expect(safeReason(refused, refused.message)).toBe('ECONNREFUSED');
  });

  it('gives the class name of an error without a code, else the fallback', () => {
    class ReplyError extends Error {
      override name = 'ReplyError';
    }
    expect(safeReason(new ReplyError('NOAUTH Authentication required'))).toBe('ReplyError');
    expect(safeReason(new Error('Connection is closed.'), 'Connection is closed.')).toBe(
      'Connection is closed.',
    );
    expect(safeReason('not an error')).toBe('query failed');
  });
});
