import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { ParleyClient } from '../../../browser-sdk/src/index.js';

const STORAGE_KEY = 'parley.apiKey';

interface Session {
  client: ParleyClient | null;
  teamName: string;
  signIn(apiKey: string): Promise<void>;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

function readKey(): string {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? '';
  } catch {
    return '';
  }
}

/** The API key (kept in localStorage) and the client built from it. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [apiKey, setApiKey] = useState(readKey);
  const [teamName, setTeamName] = useState(() => localStorage.getItem(`${STORAGE_KEY}.team`) ?? '');
  const client = useMemo(() => (apiKey ? new ParleyClient({ apiKey }) : null), [apiKey]);

  const signIn = useCallback(async (key: string) => {
    const candidate = new ParleyClient({ apiKey: key.trim() });
    const team = await candidate.getTeam();
    localStorage.setItem(STORAGE_KEY, key.trim());
    localStorage.setItem(`${STORAGE_KEY}.team`, team.name);
    setTeamName(team.name);
    setApiKey(key.trim());
  }, []);

  const signOut = useCallback(() => {
    localStorage.removeItem(STORAGE_KEY);
    localStorage.removeItem(`${STORAGE_KEY}.team`);
    setApiKey('');
    setTeamName('');
  }, []);

  const value = useMemo(() => ({ client, teamName, signIn, signOut }), [client, teamName, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in client (pages under the shell are only rendered when signed in). */
export function useClient(): ParleyClient {
  const { client } = useSession();
  if (!client) throw new Error('not signed in');
  return client;
}
