import { BadUserInputError } from '../common/errors/app-error';
import { checkFup } from './profile-rules';

describe('checkFup', () => {
  it('takes both FUP speeds or neither', () => {
    expect(checkFup(512, 1024)).toEqual({ fupUploadRateKbps: 512, fupDownloadRateKbps: 1024 });
    expect(checkFup(null, undefined)).toEqual({
      fupUploadRateKbps: null,
      fupDownloadRateKbps: null,
    });
  });

  it('names the missing or bad one', () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(BadUserInputError);
        return (err as BadUserInputError).field;
      }
      throw new Error('expected a BadUserInputError');
    };
    expect(field(() => checkFup(512, null))).toBe('input.fupDownloadRateKbps');
    expect(field(() => checkFup(undefined, 1024))).toBe('input.fupUploadRateKbps');
    expect(field(() => checkFup(0, 1024))).toBe('input.fupUploadRateKbps');
  });
});
