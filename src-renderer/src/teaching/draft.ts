import { useSyncExternalStore } from 'react';
import type { Response } from '../../../src-shared/contract/index';
import { MaskHistory, type MaskSize } from './mask-editor';

export type Tool = 'brush' | 'eraser' | 'polygon' | 'wand';
/** What the mask layer in the viewer shows: the marks, or a preview's before (unknown) / after (new class). */
export type PreviewLayer = 'mask' | 'before' | 'after';

export interface ShotDraft {
  frameIndex: number;
  history: MaskHistory;
}

/**
 * The teaching work in progress for one analysis. It lives outside React because the side panel unmounts
 * a tab when another is chosen, and the metric-space view's lasso adds shots to it from its own tab.
 */
export class TeachingDraft {
  /** The model of the analysis the draft belongs to (the wand asks it for embeddings). */
  model: string | undefined;
  shots: ShotDraft[] = [];
  active = 0;
  name = '';
  color = '#e040fb';
  prototypes = 1;
  tool: Tool = 'brush';
  brushRadius = 6;
  wandDistance = 1;
  layer: PreviewLayer = 'mask';
  preview: Response<'teaching.preview'> | undefined;
  private version = 0;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = () => this.version;

  /** Applies a change and re-renders every view of the draft. Any mask change makes the preview stale. */
  change(apply: (draft: this) => void, keepPreview = false): void {
    apply(this);
    if (!keepPreview) this.preview = undefined;
    this.version++;
    for (const listener of this.listeners) listener();
  }

  get current(): ShotDraft | undefined {
    return this.shots[this.active];
  }

  /** Adds a frame (at most 5) or selects it if it is already a shot; returns its shot. */
  addFrame(frameIndex: number, size: MaskSize): ShotDraft {
    const existing = this.shots.findIndex((shot) => shot.frameIndex === frameIndex);
    if (existing >= 0) {
      this.change((draft) => (draft.active = existing), true);
      return this.shots[existing]!;
    }
    if (this.shots.length >= 5) throw new Error('Teaching uses at most 5 frames: remove one first');
    const shot = { frameIndex, history: new MaskHistory(size) };
    this.change((draft) => {
      draft.shots.push(shot);
      draft.active = draft.shots.length - 1;
    });
    return shot;
  }

  removeShot(position: number): void {
    this.change((draft) => {
      draft.shots.splice(position, 1);
      draft.active = Math.max(0, Math.min(draft.active, draft.shots.length - 1));
    });
  }

  reset(): void {
    this.change((draft) => {
      draft.shots = [];
      draft.active = 0;
      draft.name = '';
    });
  }
}

const drafts = new Map<number, TeachingDraft>();

export function draftFor(analysisId: number): TeachingDraft {
  let draft = drafts.get(analysisId);
  if (!draft) {
    draft = new TeachingDraft();
    drafts.set(analysisId, draft);
  }
  return draft;
}

/** The draft of an analysis, re-rendering the component on every change. */
export function useDraft(analysisId: number): TeachingDraft {
  const draft = draftFor(analysisId);
  useSyncExternalStore(draft.subscribe, draft.snapshot);
  return draft;
}

export function hexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

export function rgbToHex(rgb: readonly number[]): string {
  return `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}
