import { useEffect, useState } from 'react';

export type Route =
  { screen: 'library' } | { screen: 'session'; sessionId: number } | { screen: 'models'; model?: string };

function parse(hash: string): Route {
  const match = /^#\/session\/(\d+)/.exec(hash);
  if (match) return { screen: 'session', sessionId: Number(match[1]) };
  const models = /^#\/models(?:\/([^/?]+))?/.exec(hash);
  if (models) return { screen: 'models', model: models[1] ? decodeURIComponent(models[1]) : undefined };
  return { screen: 'library' };
}

function hashOf(route: Route): string {
  if (route.screen === 'session') return `#/session/${route.sessionId}`;
  if (route.screen === 'models') return route.model ? `#/models/${encodeURIComponent(route.model)}` : '#/models';
  return '#/';
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
    window.location.hash = hashOf(next);
  };
  return [route, navigate];
}
