import type { SessionPanel } from './context';

/**
 * Panels contributed by other features: any module matching src-renderer/src/teaching/*.panel.tsx that exports
 * `panel: SessionPanel` becomes a tab of the session view (Vite resolves the glob at build time; none is fine).
 */
const contributed = import.meta.glob<{ panel: SessionPanel }>('../teaching/*.panel.tsx', { eager: true });

export function contributedPanels(): SessionPanel[] {
  return Object.values(contributed).map((module) => module.panel);
}
