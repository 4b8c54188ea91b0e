import { useEffect, useState } from 'react';
import type { Health } from '../../src-shared/contract/index';
import { useApi } from './api/context';
import { CompareScreen } from './compare/CompareScreen';
import { LibraryChoice, libraryProblem } from './library/LibraryChoice';
import { LibraryScreen } from './library/LibraryScreen';
import { ModelsScreen } from './models/ModelsScreen';
import { sessionPanels } from './panels';
import { SessionScreen } from './session/SessionScreen';
import { useRoute } from './ui/route';
import { ToastProvider } from './ui/toasts';

export function App() {
  const api = useApi();
  const [health, setHealth] = useState<Health>();
  const [error, setError] = useState<string>();
  const [route, navigate] = useRoute();
  const [title, setTitle] = useState<string>();

  useEffect(() => {
    api.call('health', {}).then(setHealth, (reason: unknown) => setError(libraryProblem(reason)));
  }, [api]);

  return (
    <ToastProvider>
      <div className="app">
        <header className="topbar">
          <button className="brand" onClick={() => navigate({ screen: 'library' })} title="Back to the library">
            <span className="brand-mark" aria-hidden>
              ◆
            </span>
            dmlreview
          </button>
          <nav className="crumbs" data-testid="crumbs">
            <button className="crumb" onClick={() => navigate({ screen: 'library' })}>
              Library
            </button>
            <span className="crumb-sep">·</span>
            <button
              className={route.screen === 'models' ? 'crumb current' : 'crumb'}
              onClick={() => navigate({ screen: 'models' })}
              data-testid="models-link"
            >
              Models
            </button>
            {route.screen === 'session' && (
              <>
                <span className="crumb-sep">›</span>
                <span className="crumb current">{title ?? `Session ${route.sessionId}`}</span>
              </>
            )}
            {route.screen === 'compare' && (
              <>
                <span className="crumb-sep">›</span>
                <button className="crumb" onClick={() => navigate({ screen: 'session', sessionId: route.sessionId })}>
                  {title ?? `Session ${route.sessionId}`}
                </button>
                <span className="crumb-sep">›</span>
                <span className="crumb current">Compare</span>
              </>
            )}
          </nav>
          <LibraryChoice health={health} />
          <span className="version" data-testid="version">
            {health ? `v${health.version} · ${health.host}` : error ? 'offline' : '…'}
          </span>
        </header>
        <main className="content">
          {error ? (
            <div className="library-error">
              <p className="error" data-testid="library-error">
                {error}
              </p>
              <LibraryChoice health={health} startOpen />
            </div>
          ) : route.screen === 'models' ? (
            <ModelsScreen model={route.model} onSelect={(model) => navigate({ screen: 'models', model })} />
          ) : route.screen === 'compare' ? (
            <CompareScreen
              key={route.sessionId}
              sessionId={route.sessionId}
              a={route.a}
              b={route.b}
              onChoose={(a, b) => navigate({ screen: 'compare', sessionId: route.sessionId, a, b })}
              onTitle={setTitle}
            />
          ) : route.screen === 'session' ? (
            <SessionScreen
              key={route.sessionId}
              sessionId={route.sessionId}
              at={route.at}
              panel={route.panel}
              panels={sessionPanels}
              onTitle={setTitle}
            />
          ) : (
            <LibraryScreen onOpen={(sessionId) => navigate({ screen: 'session', sessionId })} />
          )}
        </main>
      </div>
    </ToastProvider>
  );
}
