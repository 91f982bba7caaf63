import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A server key: the configured value when set, else a random one kept in `dataDir/<fileName>`
 * (created on first start, mode 0600), so an embedded deployment needs no setup and keeps its
 * key across restarts. Several processes sharing one PostgreSQL must configure the key.
 */
export async function storedKey(dataDir: string, fileName: string, configured?: string): Promise<string> {
  if (configured) return configured;
  const path = join(dataDir, fileName);
  try {
    const stored = (await readFile(path, 'utf8')).trim();
    if (stored.length >= 32) return stored;
  } catch {
    // First start.
  }
  const key = randomBytes(32).toString('base64url');
  await mkdir(dataDir, { recursive: true });
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  return key;
}
