import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for secrets a team gives Parley (provider API keys): AES-256-GCM from
 * node:crypto under a server key (`PARLEY_SECRET_KEY`, or a random key kept in the data
 * directory). The stored form names its version, so the scheme can change without a guess:
 * `v1.<iv>.<tag>.<ciphertext>`, each part base64url. The team id is bound as associated data,
 * so a ciphertext copied into another team's row does not decrypt.
 */
export class SecretBox {
  private readonly key: Buffer;

  /** Any string of ≥ 32 characters; it is hashed to the 256-bit AES key. */
  constructor(serverKey: string) {
    if (serverKey.length < 32) throw new Error('the server key must have at least 32 characters');
    this.key = createHash('sha256').update(serverKey, 'utf8').digest();
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Throws when the value was sealed under another key or context, or was altered. */
  open(sealed: string, context: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined)
      throw new Error('unknown sealed secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}
