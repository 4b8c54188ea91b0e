import { useEffect, useState } from 'react';

export type Route = { screen: 'library' } | { screen: 'session'; sessionId: number };

function parse(hash: string): Route {
  const match = /^#\/session\/(\d+)/.exec(hash);
  return match ? { screen: 'session', sessionId: Number(match[1]) } : { screen: 'library' };
}

/** The screen lives in the URL hash, so reloading keeps it and the token in the query string stays put. */
export function useRoute(): [Route, (route: Route) => void] {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parse(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  const navigate = (next: Route) => {
    window.location.hash = next.screen === 'session' ? `#/session/${next.sessionId}` : '#/';
  };
  return [route, navigate];
}
