import { useState } from 'react';
import type { Page } from '../../../browser-sdk/src/index.js';
import { ErrorBanner } from '../components/ui.js';
import type { AsyncState } from './use-async.js';

/**
 * "Load more" for a cursor-paged list held by `useAsync`: fetches the page after the last one
 * and appends the rows not already shown (live updates may have added some).
 */
export function LoadMore<T>({
  list,
  fetchPage,
  idOf,
  label,
  testId,
}: {
  list: AsyncState<Page<T>>;
  fetchPage: (cursor: string) => Promise<Page<T>>;
  idOf: (row: T) => string;
  label: string;
  testId: string;
}) {
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const cursor = list.data?.nextCursor ?? null;
  const load = async () => {
    if (!cursor) return;
    setLoading(true);
    setError(null);
    try {
      const page = await fetchPage(cursor);
      list.setData((current) => {
        const shown = new Set((current?.data ?? []).map(idOf));
        return {
          data: [...(current?.data ?? []), ...page.data.filter((r) => !shown.has(idOf(r)))],
          nextCursor: page.nextCursor,
        };
      });
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  return (
    <>
      <ErrorBanner error={error} />
      {cursor ? (
        <div className="load-more">
          <button
            type="button"
            className="btn btn-secondary"
            data-testid={testId}
            disabled={loading}
            onClick={() => void load()}
          >
            {loading ? 'Loading…' : label}
          </button>
        </div>
      ) : null}
    </>
  );
}
