import { useEffect, useState } from 'react';
import type { Health } from '../../src-shared/contract/index';
import { useApi } from './api/context';

export function App() {
  const api = useApi();
  const [health, setHealth] = useState<Health>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    api.call('health', {}).then(setHealth, (reason: unknown) => setError(String(reason)));
  }, [api]);

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">dmlreview</span>
        <span className="version" data-testid="version">
          {health ? `v${health.version} · ${health.host}` : error ? 'offline' : '…'}
        </span>
      </header>
      <main className="content">
        {error ? <p className="error">Cannot reach the main side: {error}</p> : <p>Library: {health?.libraryPath ?? '…'}</p>}
      </main>
    </div>
  );
}
