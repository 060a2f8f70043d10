import { Transmitter } from 'node-routeros';
import { SentenceReader } from './routeros-sentences';

/** The bytes of sentences as node-routeros's own encoder writes words. */
function wire(sentences: string[][]): Buffer {
  const t = new Transmitter(null as never) as unknown as { encodeString(s: string | null): Buffer };
  const parts: Buffer[] = [];
  for (const words of sentences) {
    for (const w of words) parts.push(t.encodeString(w));
    parts.push(Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

describe('SentenceReader', () => {
  const sentences = [
    ['!re', '.tag=a1', '=name=alice', `=comment=${'x'.repeat(200)}`, '=note=café €5 ™ Œ'],
    ['!trap', '.tag=b2', '=message=no such item'],
    ['!done', '.tag=a1'],
  ];
  const bytes = wire(sentences);

  it('reads sentences fed whole', () => {
    const got: string[][] = [];
    new SentenceReader((w) => got.push(w)).push(bytes);
    expect(got).toEqual(sentences);
  });

  it('reads sentences cut at every byte, a sentence only once its empty word arrived', () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      const got: string[][] = [];
      const reader = new SentenceReader((w) => got.push(w));
      reader.push(bytes.subarray(0, cut));
      expect(got.length).toBeLessThan(sentences.length);
      reader.push(bytes.subarray(cut));
      expect(got).toEqual(sentences);
    }
    const got: string[][] = [];
    const reader = new SentenceReader((w) => got.push(w));
    for (const b of bytes) reader.push(Buffer.from([b]));
    expect(got).toEqual(sentences);
  });

  it('throws on a reserved control byte', () => {
    expect(() => new SentenceReader(() => undefined).push(Buffer.from([0xf8]))).toThrow(
      /reserved control byte 0xf8/,
    );
  });
});
