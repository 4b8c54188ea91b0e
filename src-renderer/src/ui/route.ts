import { useEffect, useState } from 'react';

export type Route =
  | { screen: 'library' }
  /** A drive; `at` opens it on that frame of that analysis, `panel` with that side panel tab. */
  | { screen: 'session'; sessionId: number; at?: { analysisId: number; frameIndex: number }; panel?: string }
  /** Two analyses of one drive side by side; either may be left to the screen to choose. */
  | { screen: 'compare'; sessionId: number; a?: number; b?: number }
  | { screen: 'models'; model?: string };

function parse(hash: string): Route {
  const compare = /^#\/session\/(\d+)\/compare(?:\/(\d+)(?:\/(\d+))?)?/.exec(hash);
  if (compare)
    return {
      screen: 'compare',
      sessionId: Number(compare[1]),
      a: compare[2] ? Number(compare[2]) : undefined,
      b: compare[3] ? Number(compare[3]) : undefined,
    };
  const match = /^#\/session\/(\d+)(?:\/at\/(\d+)\/(\d+))?(?:\/panel\/([\w-]+))?/.exec(hash);
  if (match)
    return {
      screen: 'session',
      sessionId: Number(match[1]),
      at: match[2] ? { analysisId: Number(match[2]), frameIndex: Number(match[3]) } : undefined,
      panel: match[4],
    };
  const models = /^#\/models(?:\/([^/?]+))?/.exec(hash);
  if (models) return { screen: 'models', model: models[1] ? decodeURIComponent(models[1]) : undefined };
  return { screen: 'library' };
}

/** The hash of a route: what a link to it carries. */
export function hashOf(route: Route): string {
  if (route.screen === 'session') {
    const at = route.at ? `/at/${route.at.analysisId}/${route.at.frameIndex}` : '';
    return `#/session/${route.sessionId}${at}${route.panel ? `/panel/${route.panel}` : ''}`;
  }
  if (route.screen === 'compare') {
    const pair = route.a === undefined ? '' : route.b === undefined ? `/${route.a}` : `/${route.a}/${route.b}`;
    return `#/session/${route.sessionId}/compare${pair}`;
  }
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
