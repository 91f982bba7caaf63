/** Request headers as any framework gives them: a `Headers`, Node's `IncomingHttpHeaders`, or a record. */
export type HeadersLike =
  | { get(name: string): string | null }
  | Record<string, string | readonly string[] | undefined>;

/** One header's value (case-insensitive name); repeated headers are joined with `, `. */
export function header(headers: HeadersLike, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const v = (headers as { get(name: string): string | null }).get(lower);
    return v ?? undefined;
  }
  const record = headers as Record<string, string | readonly string[] | undefined>;
  let value = record[lower];
  if (value === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === lower);
    value = key === undefined ? undefined : record[key];
  }
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}
