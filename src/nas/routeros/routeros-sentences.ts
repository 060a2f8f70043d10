import { decodeWindows1252 } from './windows-1252';

/**
 * The reading half of the RouterOS API wire protocol
 * (https://help.mikrotik.com/docs/spaces/ROS/pages/47579160/API): a word is a length prefix of
 * 1 to 5 bytes and that many bytes, a sentence is words ended by an empty word. Bytes are fed
 * as TCP hands them over, cut anywhere (inside a prefix, a word, or just before the empty word
 * that ends a sentence); a sentence is handed on only once its empty word has arrived.
 *
 * It replaces node-routeros 1.6.9's Receiver.processRawData, which does not track the empty
 * word: it hands a sentence on when a 'data' chunk ends exactly after a word's last byte, or
 * when the next reply word arrives. A reply whose last chunk held only the empty word that ends
 * its `!done` (a TCP segment or TLS record boundary there) was never handed on, so the command
 * hung until its timeout.
 */
export class SentenceReader {
  private pending: Buffer = Buffer.alloc(0);
  private words: string[] = [];

  constructor(private readonly onSentence: (words: string[]) => void) {}

  /** Reads what `data` completes; throws on a reserved control byte (>= 0xF8). */
  push(data: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
    let pos = 0;
    for (;;) {
      const prefix = readLength(buf, pos);
      if (prefix === null || pos + prefix.bytes + prefix.length > buf.length) break;
      pos += prefix.bytes;
      if (prefix.length === 0) {
        const sentence = this.words;
        this.words = [];
        // Kept before the callback, which may close the connection (and throw).
        this.pending = Buffer.from(buf.subarray(pos));
        buf = this.pending;
        pos = 0;
        if (sentence.length > 0) this.onSentence(sentence);
        continue;
      }
      // Words are Windows-1252 on the wire, as node-routeros writes them.
      this.words.push(decodeWindows1252(buf.subarray(pos, pos + prefix.length)));
      pos += prefix.length;
    }
    this.pending = Buffer.from(buf.subarray(pos));
  }
}

/** node-routeros's Receiver.tags: each open command's Channel, by its tag. */
export type TagReaders = Map<string, { callback: (packet: string[]) => void }>;

/**
 * Hands a reply sentence to the Channel of its `.tag=`, as the packet node-routeros builds (the
 * words without the tag); a reply to a tag no Channel has any more is dropped. Returns the
 * reason of a `!fatal` (untagged: the router closes the connection), else null.
 */
export function deliver(tags: TagReaders, words: string[]): string | null {
  if (words[0] === '!fatal') return words.slice(1).join(' ');
  const tag = words.find((w) => w.startsWith('.tag='))?.slice(5);
  const reader = tag === undefined ? undefined : tags.get(tag);
  reader?.callback(words.filter((w) => !w.startsWith('.tag=')));
  return null;
}

/** The length prefix at `pos`, or null when `buf` ends inside it. */
export function readLength(buf: Buffer, pos: number): { length: number; bytes: number } | null {
  if (pos >= buf.length) return null;
  const b = buf[pos];
  const bytes = b < 0x80 ? 1 : b < 0xc0 ? 2 : b < 0xe0 ? 3 : b < 0xf0 ? 4 : b < 0xf8 ? 5 : 0;
  if (bytes === 0) throw new Error(`reserved control byte 0x${b.toString(16)} in the reply`);
  if (pos + bytes > buf.length) return null;
  if (bytes === 5) return { length: buf.readUInt32BE(pos + 1), bytes };
  let length = b & [0x7f, 0x3f, 0x1f, 0x0f][bytes - 1];
  for (let i = 1; i < bytes; i++) length = length * 256 + buf[pos + i];
  return { length, bytes };
}
