import { useState, type FormEvent } from 'react';
import type { Health } from '../../../src-shared/contract/index';
import { openOwnLibrary, openTeamLibrary, parseTeamLibrary, savedTeamLibrary } from '../api/index';

/**
 * Which library is open (this app's own file, or a team server's database) and the way to open the other:
 * a team server's address and the access token its admin gave out, or back to the app's own library.
 */
export function LibraryChoice({ health, startOpen = false }: { health: Health | undefined; startOpen?: boolean }) {
  const team = savedTeamLibrary();
  const [open, setOpen] = useState(startOpen);
  const [address, setAddress] = useState(team?.origin ?? '');
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string>();

  const connect = (event: FormEvent) => {
    event.preventDefault();
    try {
      openTeamLibrary(parseTeamLibrary(address, token));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <div className="library-choice">
      <button
        className="library-indicator"
        data-testid="library-indicator"
        data-kind={team ? 'team' : 'own'}
        title={health ? `${health.library.kind === 'database' ? 'Database' : 'File'}: ${health.library.location}` : ''}
        onClick={() => setOpen(!open)}
      >
        {team ? `Team library · ${new URL(team.origin).host}` : `Library file · ${health?.library.location ?? '…'}`}
      </button>
      {open && (
        <form className="library-choice-form" data-testid="library-choice-form" onSubmit={connect}>
          <p className="small muted">
            {team
              ? `Open: the team library on ${team.origin}${health ? ` (${health.library.location})` : ''}.`
              : `Open: this app's library file${health ? ` ${health.library.location}` : ''}.`}
          </p>
          <label>
            Team server
            <input
              data-testid="team-address"
              value={address}
              placeholder="http://review.example.lan:8080 (as dmlreview serve --database printed it)"
              onChange={(event) => setAddress(event.target.value)}
            />
          </label>
          <label>
            Access token
            <input
              data-testid="team-token"
              type="password"
              value={token}
              placeholder="the token the server's admin gave you"
              onChange={(event) => setToken(event.target.value)}
            />
          </label>
          {problem && (
            <p className="small warn-text" data-testid="library-problem">
              {problem}
            </p>
          )}
          <div className="library-choice-actions">
            <button className="primary" type="submit" data-testid="team-connect">
              Open team library
            </button>
            {team && (
              <button type="button" data-testid="own-library" onClick={openOwnLibrary}>
                Back to this app&apos;s library
              </button>
            )}
          </div>
        </form>
      )}
    </div>
  );
}

/** Why the open library does not answer, in words: a team server refusing the token is told apart. */
export function libraryProblem(error: unknown): string {
  const team = savedTeamLibrary();
  const code = (error as { code?: string }).code;
  const reason = error instanceof Error ? error.message : String(error);
  if (!team) return `Cannot reach the main side: ${reason}`;
  if (code === 'unauthorized')
    return `The team server ${team.origin} refused the access token: ask its admin for the current one and open it again.`;
  return `Cannot reach the team server ${team.origin} (${reason}): check the address, that dmlreview serve --database runs there, and your network.`;
}
