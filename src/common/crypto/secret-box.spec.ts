import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../config/app-config';
import { SecretBox, SECRETS_KEY_FILE, SecretUnreadableError } from './secret-box';

const box = (env: NodeJS.ProcessEnv) => new SecretBox(loadConfig(env));

describe('SecretBox', () => {
  const key = 'cd'.repeat(32);

  it('seals so that only the same key opens, with a fresh IV each time', () => {
    const a = box({ SECRETS_KEY: key });
    const sealed = a.seal('p@ss wörd');
    expect(sealed).not.toContain('p@ss');
    expect(sealed).toMatch(/^v1\./);
    expect(a.seal('p@ss wörd')).not.toBe(sealed);
    expect(box({ SECRETS_KEY: key }).open(sealed)).toBe('p@ss wörd');
    expect(() => box({ SECRETS_KEY: 'ef'.repeat(32) }).open(sealed)).toThrow(SecretUnreadableError);
  });

  it('refuses an altered value', () => {
    const a = box({ SECRETS_KEY: key });
    const parts = a.seal('secret').split('.');
    parts[3] = Buffer.from('SECRET').toString('base64url');
    expect(() => a.open(parts.join('.'))).toThrow(SecretUnreadableError);
    expect(() => a.open('plain text')).toThrow(SecretUnreadableError);
  });

  it('refuses a value whose authentication tag was cut short (GCM would take 4 bytes)', () => {
    const a = box({ SECRETS_KEY: key });
    const parts = a.seal('secret').split('.');
    for (const bytes of [4, 8, 12]) {
      const short = Buffer.from(parts[2], 'base64url').subarray(0, bytes).toString('base64url');
      expect(() => a.open([parts[0], parts[1], short, parts[3]].join('.'))).toThrow(
        SecretUnreadableError,
      );
    }
  });

  it('without SECRETS_KEY, generates one in DATA_DIR, owner-only, and keeps it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rg-secrets-'));
    const sealed = box({ DATA_DIR: dir }).seal('x');
    const file = path.join(dir, SECRETS_KEY_FILE);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(box({ DATA_DIR: dir }).open(sealed)).toBe('x');
  });
});
