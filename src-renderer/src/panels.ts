import { AnomalyBrowser } from './session/AnomalyBrowser';
import type { SessionPanel } from './session/context';
import { ExportPanel } from './session/ExportPanel';
import { FlagsPanel } from './session/FlagsPanel';
import { FindMorePanel } from './similar/FindMorePanel';
import { FIND_MORE_PANEL } from './similar/search';
import { MetricSpacePanel } from './teaching/MetricSpacePanel';
import { TeachingPanel } from './teaching/TeachingPanel';

/**
 * The tabs of the session view's side panel, in order. A feature adds its panel here: the session screen reads
 * the view through SessionViewContext (session/context.ts) and needs to know none of them.
 */
export const sessionPanels: readonly SessionPanel[] = [
  { id: 'anomalies', title: 'Anomalies', component: AnomalyBrowser },
  { id: 'flags', title: 'Flags', component: FlagsPanel },
  { id: 'export', title: 'Export', component: ExportPanel },
  { id: 'teach', title: 'Teach', component: TeachingPanel },
  { id: 'metric-space', title: 'Metric space', component: MetricSpacePanel },
  { id: FIND_MORE_PANEL, title: 'Find more', component: FindMorePanel },
];
