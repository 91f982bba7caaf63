import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useSession } from '../lib/session.js';

const NAV = [
  { href: '/assistants', label: 'Assistants', testId: 'nav-assistants', icon: '◆' },
  { href: '/calls', label: 'Calls', testId: 'nav-calls', icon: '☎' },
  { href: '/phone-numbers', label: 'Phone numbers', testId: 'nav-phone-numbers', icon: '#' },
  { href: '/settings', label: 'Settings', testId: 'nav-settings', icon: '⚙' },
] as const;

export function Shell({ children }: { children: ReactNode }) {
  const [location] = useLocation();
  const { teamName, signOut } = useSession();
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            P
          </span>
          <span className="brand-name">Parley</span>
        </div>
        <nav className="nav">
          {NAV.map((item) => {
            const active = location === item.href || location.startsWith(`${item.href}/`);
            return (
              <Link
                key={item.href}
                href={item.href}
                className={active ? 'nav-link active' : 'nav-link'}
                data-testid={item.testId}
              >
                <span className="nav-icon" aria-hidden="true">
                  {item.icon}
                </span>
                {item.label}
              </Link>
            );
          })}
        </nav>
        <div className="sidebar-footer">
          <div className="team">
            <div className="team-label">Team</div>
            <div className="team-name">{teamName || '—'}</div>
          </div>
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={signOut}
            data-testid="sign-out-button"
          >
            Sign out
          </button>
        </div>
      </aside>
      <main className="main">{children}</main>
    </div>
  );
}
