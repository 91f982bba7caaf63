/** Reading and writing nested values by dotted path (`tools.0.server.url`). */
type Json = Record<string, unknown> | unknown[];

export function getPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Returns a copy of `root` with `path` set (undefined deletes the key). */
export function setPath<T>(root: T, path: string, next: unknown): T {
  const keys = path.split('.');
  const write = (node: unknown, i: number): unknown => {
    const key = keys[i] as string;
    const isIndex = /^\d+$/.test(key);
    const base: Json =
      node !== null && typeof node === 'object'
        ? Array.isArray(node)
          ? [...node]
          : { ...(node as Record<string, unknown>) }
        : isIndex
          ? []
          : {};
    const record = base as Record<string, unknown>;
    if (i === keys.length - 1) {
      if (next === undefined && !Array.isArray(base)) delete record[key];
      else record[key] = next;
    } else {
      record[key] = write(record[key], i + 1);
    }
    return base;
  };
  return write(root, 0) as T;
}
