import { useEffect, useState } from 'react';
import type { SessionInfo } from '../../../src-shared/contract/index';
import { useApi } from '../api/context';
import { useGuarded, useToast } from '../ui/toasts';

/**
 * After teaching: pick the sessions of the library to analyse again with the new knowledge (this one ticked),
 * all with the model the class was taught on.
 */
export function ReanalysePicker({
  model,
  currentSessionId,
  onStarted,
}: {
  model: string;
  currentSessionId: number;
  onStarted: () => void;
}) {
  const api = useApi();
  const guarded = useGuarded();
  const toast = useToast();
  const [sessions, setSessions] = useState<SessionInfo[]>([]);
  const [chosen, setChosen] = useState<ReadonlySet<number>>(new Set([currentSessionId]));
  const [starting, setStarting] = useState(false);

  useEffect(() => {
    void guarded(() => api.call('sessions.list', {}).then(setSessions));
  }, [api, guarded]);

  const toggle = (id: number) =>
    setChosen((before) => {
      const after = new Set(before);
      if (!after.delete(id)) after.add(id);
      return after;
    });

  const start = () =>
    void guarded(async () => {
      setStarting(true);
      try {
        const sessionIds = sessions.map((session) => session.id).filter((id) => chosen.has(id));
        const result = await api.call('teaching.reanalyse', { sessionIds, model });
        toast(
          'info',
          `Re-analysing ${sessionIds.length} session${sessionIds.length === 1 ? '' : 's'} with knowledge version ` +
            `${result.knowledgeVersion ?? '—'} (analyses #${result.analysisIds.join(', #')}); pick the new analysis when it is done`,
        );
        onStarted();
      } finally {
        setStarting(false);
      }
    });

  return (
    <fieldset className="reanalyse" data-testid="teach-reanalyse-picker">
      <legend>Re-analyse with {model}</legend>
      {sessions.map((session) => (
        <label key={session.id} className="reanalyse-session">
          <input
            type="checkbox"
            checked={chosen.has(session.id)}
            onChange={() => toggle(session.id)}
            data-testid={`teach-reanalyse-session-${session.id}`}
          />
          {session.name}
          {session.id === currentSessionId && <span className="muted"> (this session)</span>}
        </label>
      ))}
      <button onClick={start} disabled={starting || chosen.size === 0} data-testid="teach-reanalyse">
        Re-analyse {chosen.size} session{chosen.size === 1 ? '' : 's'}
      </button>
    </fieldset>
  );
}
