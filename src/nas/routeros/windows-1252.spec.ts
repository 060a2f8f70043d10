import { Transmitter } from 'node-routeros';
import { decodeWindows1252, WINDOWS_1252_CHARACTERS } from './windows-1252';

describe('Windows-1252', () => {
  it("reads back every character node-routeros's encoder writes in one byte", () => {
    const t = new Transmitter(null as never) as unknown as { encodeString(s: string): Buffer };
    const printable = [...WINDOWS_1252_CHARACTERS].filter(
      // eslint-disable-next-line no-control-regex
      (c) => !/[\u0000-\u001f\u007f-\u009f]/.test(c),
    );
    expect(printable).toHaveLength(256 - 32 - 1 - 5);
    for (const c of printable) {
      const word = t.encodeString(c); // a length byte, then the character
      expect(word).toHaveLength(2);
      expect(decodeWindows1252(word.subarray(1))).toBe(c);
    }
    expect(decodeWindows1252(Buffer.from([0x80, 0x99, 0xe9]))).toBe('€™é');
  });

  it('has no Cyrillic or CJK, which node-routeros would send as "?"', () => {
    expect(WINDOWS_1252_CHARACTERS.has('п')).toBe(false);
    expect(WINDOWS_1252_CHARACTERS.has('中')).toBe(false);
  });
});
