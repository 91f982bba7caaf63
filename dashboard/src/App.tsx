import { Redirect, Route, Switch } from 'wouter';
import { Shell } from './components/Shell.js';
import { SessionProvider, useSession } from './lib/session.js';
import { AssistantsPage } from './pages/AssistantsPage.js';
import { AssistantEditorPage } from './pages/assistant-editor/AssistantEditorPage.js';
import { CallDetailPage } from './pages/CallDetailPage.js';
import { CallsPage } from './pages/CallsPage.js';
import { PhoneNumbersPage } from './pages/PhoneNumbersPage.js';
import { SettingsPage } from './pages/SettingsPage.js';
import { SignIn } from './pages/SignIn.js';
import { TalkPage } from './pages/TalkPage.js';

function Routes() {
  const { client } = useSession();
  if (!client) return <SignIn />;
  return (
    <Shell>
      <Switch>
        <Route path="/">
          <Redirect to="/assistants" />
        </Route>
        <Route path="/assistants" component={AssistantsPage} />
        <Route path="/assistants/new">{() => <AssistantEditorPage id={null} />}</Route>
        <Route path="/assistants/:id">{(params) => <AssistantEditorPage id={params.id} />}</Route>
        <Route path="/talk/:assistantId">{(params) => <TalkPage assistantId={params.assistantId} />}</Route>
        <Route path="/calls" component={CallsPage} />
        <Route path="/calls/:id">{(params) => <CallDetailPage id={params.id} />}</Route>
        <Route path="/phone-numbers" component={PhoneNumbersPage} />
        <Route path="/settings" component={SettingsPage} />
        <Route>
          <div className="page">
            <h1>Not found</h1>
          </div>
        </Route>
      </Switch>
    </Shell>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Routes />
    </SessionProvider>
  );
}
