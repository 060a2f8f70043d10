import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { storedSecret } from './stored-secret';

export const SECRETS_KEY_FILE = 'secrets-key';
const VERSION = 'v1';

/** A stored secret that this key cannot open (SECRETS_KEY changed, or the value was altered). */
export class SecretUnreadableError extends Error {
  override name = 'SecretUnreadableError';
}

/**
 * Encrypts secrets radgraph must read back (RouterOS API passwords) before they are stored:
 * AES-256-GCM with SECRETS_KEY, a fresh IV each time, stored as "v1.<iv>.<tag>.<ciphertext>"
 * (base64url). Without SECRETS_KEY (never in production: config validation refuses that) the
 * key is generated on first start and kept, owner-only, in DATA_DIR/secrets-key.
 */
@Injectable()
export class SecretBox {
  private readonly key: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.key =
      config.secretsKey ??
      Buffer.from(
        storedSecret(
          config.dataDir,
          SECRETS_KEY_FILE,
          () => randomBytes(32).toString('hex'),
          (hex) => /^[0-9a-f]{64}$/.test(hex),
        ).value,
        'hex',
      );
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || body === undefined) {
      throw new SecretUnreadableError('not a sealed secret of this version');
    }
    try {
      // The whole 16-byte tag: GCM would otherwise accept one cut short, which is easier to forge.
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), {
        authTagLength: 16,
      });
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]);
      return plain.toString('utf8');
    } catch {
      throw new SecretUnreadableError(
        'a stored secret cannot be decrypted with this SECRETS_KEY (was the key changed?)',
      );
    }
  }
}
