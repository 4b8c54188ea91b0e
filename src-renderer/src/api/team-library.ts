/**
 * Which library the app shows: its own (the desktop app's file, or the file of the review server that served
 * this page) or a team server's (`dmlreview serve --database`), reached with the token its admin gave out.
 * The choice is kept in this page's storage. The page is loaded with `?team=ORIGIN` while a team library is
 * open: the host reads it to let the page's Content-Security-Policy reach that server (and only that one).
 */
export interface TeamLibrary {
  /** The team server's origin, e.g. http://review.fleet.lan:8080 */
  origin: string;
  token: string;
}

const STORAGE_KEY = 'dmlreview.teamLibrary';
const TEAM_PARAM = 'team';

/** The team library chosen on this machine, if any. */
export function savedTeamLibrary(): TeamLibrary | undefined {
  try {
    const saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<TeamLibrary> | null;
    if (typeof saved?.origin === 'string' && typeof saved.token === 'string')
      return { origin: saved.origin, token: saved.token };
  } catch {
    // Storage written by something else: as if nothing was chosen.
  }
  return undefined;
}

/**
 * Reads what a reviewer types: the URL `dmlreview serve` prints (with ?token=), or a server address and the
 * token apart. Throws an Error saying what is wrong.
 */
export function parseTeamLibrary(address: string, token: string): TeamLibrary {
  const text = address.trim();
  let url: URL;
  try {
    url = new URL(/^https?:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new Error(`"${text}" is not a server address: give the URL dmlreview serve printed, e.g. http://host:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`The team server's address must start with http:// or https://`);
  const chosen = token.trim() || url.searchParams.get('token') || '';
  if (!chosen) throw new Error('Give the access token of the team server (or the URL with ?token= in it)');
  return { origin: url.origin, token: chosen };
}

/** The page address to load for `team` (undefined: the app's own library), keeping the rest of this one. */
function pageFor(team: TeamLibrary | undefined): string {
  const url = new URL(window.location.href);
  if (team) url.searchParams.set(TEAM_PARAM, team.origin);
  else url.searchParams.delete(TEAM_PARAM);
  url.hash = '';
  return url.href;
}

/** Opens a team library: remembered, and the page loaded again on it. */
export function openTeamLibrary(team: TeamLibrary): void {
  window.localStorage.setItem(STORAGE_KEY, JSON.stringify(team));
  window.location.assign(pageFor(team));
}

/** Back to the app's own library. */
export function openOwnLibrary(): void {
  window.localStorage.removeItem(STORAGE_KEY);
  window.location.assign(pageFor(undefined));
}

/**
 * Where the page must be loaded again before it can show the chosen library (its address does not name the
 * team server it should, or names one no longer chosen); undefined when it is right as it is.
 */
export function reloadNeeded(): string | undefined {
  const wanted = savedTeamLibrary()?.origin ?? null;
  const named = new URLSearchParams(window.location.search).get(TEAM_PARAM);
  return named === wanted ? undefined : pageFor(savedTeamLibrary());
}
