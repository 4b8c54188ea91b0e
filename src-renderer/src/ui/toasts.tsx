import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useApi } from '../api/context';

type Level = 'info' | 'warning' | 'error';
interface Toast {
  id: number;
  level: Level;
  message: string;
}

const ToastContext = createContext<(level: Level, message: string) => void>(() => {});
let nextId = 1;

/** Messages for the user in the corner: failed calls, notices from the main side, finished exports. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((level: Level, message: string) => {
    const id = nextId++;
    setToasts((current) => [...current.slice(-4), { id, level, message }]);
    setTimeout(
      () => setToasts((current) => current.filter((toast) => toast.id !== id)),
      level === 'error' ? 9000 : 4500,
    );
  }, []);
  useEffect(() => api.on('notice', (notice) => push(notice.level, notice.message)), [api, push]);
  const value = useMemo(() => push, [push]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="status">
        {toasts.map((toast) => (
          <div key={toast.id} className={`toast toast-${toast.level}`} data-testid={`toast-${toast.level}`}>
            {toast.message}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast() {
  return useContext(ToastContext);
}

/** Runs an API call, turning a failure into an error toast instead of an unhandled rejection. */
export function useGuarded() {
  const toast = useToast();
  return useCallback(
    async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await work();
      } catch (error) {
        toast('error', error instanceof Error ? error.message : String(error));
        return undefined;
      }
    },
    [toast],
  );
}
