import { useEffect, useState } from 'react';
import { encodeRle } from '../../../src-shared/contract/index';
import { useSessionView } from '../session/context';
import { loadFrameLayers } from '../session/frame-layers';
import { useGuarded, useToast } from '../ui/toasts';
import { hexToRgb, useDraft, type TeachingDraft, type Tool } from './draft';
import { KnowledgeBase } from './KnowledgeBase';
import { TeachingTool } from './TeachingTool';
import { countMarked } from './mask-editor';
import { RangeField } from '../ui/RangeField';
import { ReanalysePicker } from './ReanalysePicker';
import './teaching.css';

const TOOLS: { tool: Tool; label: string; title: string }[] = [
  { tool: 'brush', label: 'Brush', title: 'Paint the object (B)' },
  { tool: 'eraser', label: 'Eraser', title: 'Erase (E)' },
  { tool: 'polygon', label: 'Polygon', title: 'Click vertices, double-click or Enter to close (G)' },
  {
    tool: 'wand',
    label: 'Wand',
    title: 'Select the connected region close in embedding space to the clicked pixel (W)',
  },
];

/**
 * Teach a new class from 1 to 5 frames of this session: mark the object, name it, preview before/after on
 * the shot frames, teach, then re-analyse this and other sessions with it.
 */
export function TeachingPanel() {
  const view = useSessionView();
  const { api, analysis, frameIndex } = view;
  const draft = useDraft(analysis.id);
  const guarded = useGuarded();
  const toast = useToast();
  const [busy, setBusy] = useState<string>();
  const [taughtName, setTaughtName] = useState<string>();
  const [knowledgeVersion, setKnowledgeVersion] = useState(0);
  const shot = draft.current;

  // While this tab is open the mask is painted in the main viewer, at the frame's full size.
  useEffect(() => {
    draft.change((d) => (d.model = analysis.modelName), true);
    view.viewerTool.set(TeachingTool);
    return () => view.viewerTool.set(undefined);
  }, [draft, analysis.modelName, view.viewerTool]);

  const addCurrentFrame = () =>
    void guarded(async () => {
      const loaded = await loadFrameLayers(api, analysis.id, frameIndex);
      draft.addFrame(frameIndex, { width: loaded.mapWidth, height: loaded.mapHeight });
    });

  const shotsRequest = () => {
    const empty = draft.shots.findIndex((entry) => countMarked(entry.history.mask) === 0);
    if (empty >= 0)
      throw new Error(
        `Frame ${draft.shots[empty]!.frameIndex} has no marked pixel: mark the object or remove the frame`,
      );
    return draft.shots.map((entry) => ({
      frame: { analysisId: analysis.id, frameIndex: entry.frameIndex },
      mask: encodeRle(entry.history.mask, entry.history.size.width, entry.history.size.height),
    }));
  };

  const run = (label: string, work: () => Promise<void>) =>
    void guarded(async () => {
      setBusy(label);
      try {
        await work();
      } finally {
        setBusy(undefined);
      }
    });

  const preview = () =>
    run('Previewing…', async () => {
      const result = await api.call('teaching.preview', {
        model: analysis.modelName,
        name: draft.name || 'new class',
        shots: shotsRequest(),
        prototypes: draft.prototypes,
      });
      draft.change((d) => {
        d.preview = result;
        d.layer = 'after';
      }, true);
      for (const warning of result.warnings) toast('warning', warning.message);
    });

  const teach = () =>
    run('Teaching…', async () => {
      const name = draft.name.trim();
      if (!name) throw new Error('Name the class before teaching it');
      const result = await api.call('teaching.teach', {
        model: analysis.modelName,
        name,
        color: hexToRgb(draft.color),
        shots: shotsRequest(),
        prototypes: draft.prototypes,
      });
      for (const warning of result.warnings) toast('warning', warning.message);
      toast('info', `Taught "${result.taughtClass.name}" (knowledge version ${result.knowledgeVersion})`);
      setTaughtName(result.taughtClass.name);
      setKnowledgeVersion(result.knowledgeVersion);
      draft.reset();
    });

  // Tool keys and undo/redo while this panel is open.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.target as HTMLElement | null)?.closest('input:not([type=range]), textarea, select')) return;
      const current = draft.current;
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'z' && current) {
        draft.change(() => (event.shiftKey ? current.history.redo() : current.history.undo()));
      } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'y' && current) {
        draft.change(() => current.history.redo());
      } else if (
        !event.ctrlKey &&
        !event.metaKey &&
        !event.altKey &&
        'begw'.includes(event.key.toLowerCase()) &&
        event.key.length === 1
      ) {
        const tool = ({ b: 'brush', e: 'eraser', g: 'polygon', w: 'wand' } as const)[
          event.key.toLowerCase() as 'b' | 'e' | 'g' | 'w'
        ];
        draft.change((d) => (d.tool = tool), true);
      } else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [draft]);

  const inDraft = draft.shots.some((entry) => entry.frameIndex === frameIndex);
  return (
    <div className="teaching" data-testid="teaching-panel">
      <div className="teach-row">
        {draft.shots.map((entry, position) => (
          <span
            key={entry.frameIndex}
            className={`chip shot-chip${position === draft.active ? ' on' : ''}`}
            onClick={() => {
              draft.change((d) => (d.active = position), true);
              view.seek(entry.frameIndex);
            }}
          >
            frame {entry.frameIndex} · {countMarked(entry.history.mask)} px
            <button
              className="icon"
              aria-label={`Remove frame ${entry.frameIndex}`}
              onClick={(event) => (event.stopPropagation(), draft.removeShot(position))}
            >
              ✕
            </button>
          </span>
        ))}
        <button
          onClick={addCurrentFrame}
          disabled={inDraft || draft.shots.length >= 5}
          data-testid="teach-add-frame"
          title="Use the frame on screen as a shot (1 to 5 frames)"
        >
          + frame {frameIndex}
        </button>
      </div>
      {shot ? (
        <>
          <ToolBar draft={draft} />
          <p className="muted teach-hint" data-testid="teach-where">
            {shot.frameIndex === frameIndex
              ? 'Mark the object on the frame in the viewer: the wheel zooms, the middle button pans, 0 fits.'
              : `Frame ${shot.frameIndex} is being marked: click its chip to show it in the viewer.`}
          </p>
          <div className="teach-row">
            <div className="segmented-inline">
              {(['mask', 'before', 'after'] as const).map((option) => (
                <button
                  key={option}
                  className={draft.layer === option ? 'on' : ''}
                  disabled={option !== 'mask' && !draft.preview}
                  onClick={() => draft.change((d) => (d.layer = option), true)}
                  data-testid={`teach-layer-${option}`}
                >
                  {option === 'mask' ? 'Mask' : option === 'before' ? 'Before (unknown)' : 'After (new class)'}
                </button>
              ))}
            </div>
            <span className="spacer" />
            <button
              disabled={countMarked(shot.history.mask) === 0}
              onClick={() =>
                view.findSimilar({
                  sessionId: view.session.id,
                  analysisId: analysis.id,
                  frameIndex: shot.frameIndex,
                  query: {
                    kind: 'mask',
                    mask: encodeRle(shot.history.mask, shot.history.size.width, shot.history.size.height),
                  },
                  origin: `the teaching mask on frame ${shot.frameIndex}`,
                })
              }
              title="Search every drive for regions like the marked pixels"
              data-testid="teach-find-similar"
            >
              Find more like this
            </button>
          </div>
        </>
      ) : (
        <p className="muted teach-hint">
          Seek to a frame showing the unknown object, then add it. Mark the object in 1 to 5 frames.
        </p>
      )}
      <div className="teach-row">
        <input
          placeholder="Class name"
          value={draft.name}
          maxLength={64}
          onChange={(event) => draft.change((d) => (d.name = event.target.value), true)}
          data-testid="teach-name"
        />
        <input
          type="color"
          value={draft.color}
          onChange={(event) => draft.change((d) => (d.color = event.target.value), true)}
          title="Class colour"
          data-testid="teach-color"
        />
        <label title="Prototypes per class: 1 is NPM (the mean); 2-3 cluster the marked pixels (k-means)">
          k
          <select
            value={draft.prototypes}
            onChange={(event) => draft.change((d) => (d.prototypes = Number(event.target.value)))}
          >
            {[1, 2, 3].map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
      </div>
      <div className="teach-row">
        <button onClick={preview} disabled={!draft.shots.length || busy !== undefined} data-testid="teach-preview">
          Preview
        </button>
        <button
          className="primary"
          onClick={teach}
          disabled={!draft.shots.length || !draft.name.trim() || busy !== undefined}
          data-testid="teach-submit"
        >
          Teach
        </button>
        {busy && <span className="muted">{busy}</span>}
      </div>
      {draft.preview && <PreviewSummary draft={draft} />}
      {taughtName && (
        <div className="teach-taught">
          <span>“{taughtName}” is taught.</span>
          <ReanalysePicker model={analysis.modelName} currentSessionId={view.session.id} onStarted={view.refresh} />
        </div>
      )}
      <KnowledgeBase model={analysis.modelName} version={knowledgeVersion} />
    </div>
  );
}

function ToolBar({ draft }: { draft: TeachingDraft }) {
  const shot = draft.current;
  return (
    <div className="teach-row tools">
      <div className="segmented-inline">
        {TOOLS.map((entry) => (
          <button
            key={entry.tool}
            className={draft.tool === entry.tool ? 'on' : ''}
            title={entry.title}
            onClick={() => draft.change((d) => (d.tool = entry.tool), true)}
            data-testid={`teach-tool-${entry.tool}`}
          >
            {entry.label}
          </button>
        ))}
      </div>
      {draft.tool === 'wand' ? (
        <RangeField
          label="distance"
          title="How far (embedding distance) a pixel may be from the clicked one"
          min={0.1}
          max={4}
          step={0.1}
          value={draft.wandDistance}
          display={draft.wandDistance.toFixed(1)}
          onChange={(distance) => draft.change((d) => (d.wandDistance = distance), true)}
          testId="teach-wand-distance"
        />
      ) : (
        <label title="Brush size ([ and ] over the frame)">
          size
          <input
            type="range"
            min={1}
            max={60}
            value={draft.brushRadius}
            onChange={(event) => draft.change((d) => (d.brushRadius = Number(event.target.value)), true)}
            data-testid="teach-brush-size"
          />
          <span className="num">{draft.brushRadius}</span>
        </label>
      )}
      <button
        disabled={!shot?.history.canUndo}
        onClick={() => shot && draft.change(() => shot.history.undo())}
        title="Undo (Ctrl+Z)"
        data-testid="teach-undo"
      >
        ↶
      </button>
      <button
        disabled={!shot?.history.canRedo}
        onClick={() => shot && draft.change(() => shot.history.redo())}
        title="Redo (Ctrl+Shift+Z)"
        data-testid="teach-redo"
      >
        ↷
      </button>
      <button
        onClick={() => shot && draft.change(() => shot.history.replace(new Uint8Array(shot.history.mask.length)))}
        title="Clear the mask"
      >
        Clear
      </button>
    </div>
  );
}

function PreviewSummary({ draft }: { draft: TeachingDraft }) {
  const preview = draft.preview!;
  return (
    <div className="teach-preview" data-testid="teach-preview-summary">
      <div className="muted">
        {preview.prototypes.length} prototype(s), acceptance radius {Math.sqrt(preview.acceptanceRadius).toFixed(2)}
      </div>
      {preview.shots.map((entry, i) => (
        <div key={i}>
          frame {'frameIndex' in entry.frame ? entry.frame.frameIndex : i}: takes {(entry.maskRecall * 100).toFixed(0)}%
          of the mask, {entry.pixelsOutsideMask.toLocaleString()} px outside it
        </div>
      ))}
      {preview.warnings.map((warning, i) => (
        <div key={i} className="warning-text">
          ⚠ {warning.message}
        </div>
      ))}
    </div>
  );
}
