import { createHash } from 'node:crypto';

/** SHA-256 of a text (UTF-8), as 64 hex digits: how radgraph stores what it only compares. */
export const sha256Hex = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex');
