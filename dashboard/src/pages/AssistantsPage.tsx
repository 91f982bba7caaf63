import { Link, useLocation } from 'wouter';
import { Card, EmptyState, ErrorBanner, PageHeader, Spinner } from '../components/ui.js';
import { formatDate } from '../lib/format.js';
import { LoadMore } from '../lib/load-more.js';
import { useClient } from '../lib/session.js';
import { useAsync } from '../lib/use-async.js';

export function AssistantsPage() {
  const client = useClient();
  const [, navigate] = useLocation();
  const list = useAsync((signal) => client.listAssistants({ limit: 100 }, signal), [client]);
  const { data, error, loading } = list;
  const assistants = data?.data ?? [];

  return (
    <div className="page">
      <PageHeader
        title="Assistants"
        subtitle="Voice agents: prompt, model, voice, tools and where their events go."
        actions={
          <Link href="/assistants/new" className="btn btn-primary" data-testid="new-assistant-button">
            + New assistant
          </Link>
        }
      />
      <ErrorBanner error={error} />
      <Card>
        {loading && !data ? (
          <Spinner />
        ) : assistants.length === 0 ? (
          <EmptyState title="No assistants yet" icon="◆">
            <p>Create one: a name is enough, every other field has a working default.</p>
            <Link href="/assistants/new" className="btn btn-primary">
              Create an assistant
            </Link>
          </EmptyState>
        ) : (
          <table className="table table-clickable">
            <thead>
              <tr>
                <th>Name</th>
                <th>Model</th>
                <th>Speech</th>
                <th>Webhook</th>
                <th>Updated</th>
                <th aria-label="actions" />
              </tr>
            </thead>
            <tbody>
              {assistants.map((a) => (
                <tr
                  key={a._id}
                  data-testid="assistant-row"
                  data-assistant-id={a._id}
                  onClick={() => navigate(`/assistants/${a._id}`)}
                >
                  <td>
                    <div className="cell-title">{a.name}</div>
                    <div className="cell-sub mono">{a._id}</div>
                  </td>
                  <td>
                    <span className="tag">{a.assistantProvider ?? '—'}</span> {a.assistantModel}
                  </td>
                  <td className="muted">
                    {a.config?.speech?.stt?.provider ?? '—'} / {a.config?.speech?.tts?.provider ?? '—'}
                  </td>
                  <td className="muted truncate">{a.assistantServer?.url ?? 'not set'}</td>
                  <td className="muted">{formatDate(a.updatedAt)}</td>
                  <td className="row-actions">
                    <Link
                      href={`/talk/${a._id}`}
                      className="btn btn-secondary btn-sm"
                      data-testid="talk-button"
                      onClick={(e) => e.stopPropagation()}
                    >
                      Talk
                    </Link>
                    <Link
                      href={`/assistants/${a._id}`}
                      className="btn btn-ghost btn-sm"
                      onClick={(e) => e.stopPropagation()}
                    >
                      Edit
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <LoadMore
          list={list}
          fetchPage={(cursor) => client.listAssistants({ limit: 100, cursor })}
          idOf={(a) => a._id}
          label="Load more assistants"
          testId="load-more-assistants"
        />
      </Card>
    </div>
  );
}
