import { BadUserInputError } from '../common/errors/app-error';
import { checkFup, checkName, groupNameProblem } from './profile-rules';

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

describe('checkName', () => {
  it.each(['Home 10M', 'Biashara 50M: fibre/@isp.co_ke-1', 'Nyumbani ñ 王'])('takes %s', (name) => {
    expect(checkName('input.name', name)).toBe(name);
    expect(groupNameProblem(name)).toBeNull();
  });

  it.each(['Home 10M+', 'Family (20M)', 'a,b', 'Bob & Co', "Mama's", '50%'])(
    'refuses %s, naming the field and the character, as groupNameProblem reports it',
    (name) => {
      const bad = [...name].find((ch) => !/[A-Za-z0-9 @._:/-]/.test(ch))!;
      try {
        checkName('input.name', name);
        throw new Error('expected a BadUserInputError');
      } catch (err) {
        expect(err).toBeInstanceOf(BadUserInputError);
        expect((err as BadUserInputError).field).toBe('input.name');
        expect((err as Error).message).toContain(`must not contain "${bad}"`);
      }
      expect(groupNameProblem(name)).toContain(`"${bad}"`);
    },
  );
});
