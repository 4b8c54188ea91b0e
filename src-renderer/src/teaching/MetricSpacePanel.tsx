import { useEffect, useRef, useState } from 'react';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { encodeRle, NEIGHBOURS_LAYOUT_MAX_POINTS, type CloudAxes } from '../../../src-shared/contract/index';
import { useSessionView } from '../session/context';
import { useGuarded, useToast } from '../ui/toasts';
import { draftFor } from './draft';
import { stampDisc } from './mask-editor';
import { scaleCloud, insidePolygon, type ScaledCloud } from './cloud';
import { displayColor } from '../ui/colors';
import './teaching.css';

/** Colours are given in sRGB, as the rest of the UI draws them. */
const srgb = (r: number, g: number, b: number) =>
  new THREE.Color().setRGB(r / 255, g / 255, b / 255, THREE.SRGBColorSpace);
/** A class colour as the dark theme draws it (see displayColor). */
const classColor = (rgb: [number, number, number]) => srgb(...displayColor(rgb));
const UNKNOWN_COLOR = srgb(255, 43, 214);
const LOAD_DELAY_MS = 250;
/**
 * Points asked for in turn: a small sample draws within a moment of the frame's embedding being there, the
 * full one follows (the main side keeps the embedding, so the second answer costs little). The neighbours
 * layout's cost grows with the square of the points: it stops at fewer.
 */
const sampleSteps = (axes: CloudAxes) => [2_000, axes === 'neighbours' ? NEIGHBOURS_LAYOUT_MAX_POINTS : 20_000];

/**
 * The frame's pixel embeddings in 3D (~20,000 sampled pixels by PCA or chosen channels, or 5,000 laid out by
 * their nearest neighbours; placed on the main side): coloured by
 * predicted class, unknown pixels in magenta and larger, prototypes as labelled spheres. Drag to orbit,
 * wheel to zoom, hover a point to see its pixel on the frame, Shift+drag a lasso to start a teaching mask from the points.
 */
export function MetricSpacePanel() {
  const { api, analysis, session, frameIndex, marks, findSimilar } = useSessionView();
  const guarded = useGuarded();
  const toast = useToast();
  const [cloud, setCloud] = useState<ScaledCloud>();
  const [hover, setHover] = useState<number>();
  const [selection, setSelection] = useState<Uint32Array>();
  const [fps, setFps] = useState(0);
  const stageRef = useRef<HTMLDivElement>(null);
  const lassoRef = useRef<HTMLCanvasElement>(null);
  const [loadedFrame, setLoadedFrame] = useState<number>();
  const [axes, setAxes] = useState<CloudAxes>('pca');

  const [loading, setLoading] = useState<{ frameIndex: number; since: number; samples: number; axes: CloudAxes }>();
  const [fullscreen, setFullscreen] = useState(false);
  useEffect(() => {
    if (!fullscreen) return;
    const close = (event: KeyboardEvent) => event.key === 'Escape' && setFullscreen(false);
    window.addEventListener('keydown', close);
    return () => window.removeEventListener('keydown', close);
  }, [fullscreen]);

  useEffect(() => {
    let alive = true;
    const timer = setTimeout(() => {
      void guarded(async () => {
        for (const samples of sampleSteps(axes)) {
          setLoading((current) => ({ frameIndex, since: current?.since ?? performance.now(), samples, axes }));
          const result = await api.call('teaching.embeddings', {
            model: analysis.modelName,
            frame: { analysisId: analysis.id, frameIndex },
            samples,
            axes,
          });
          if (!alive) return;
          setCloud(scaleCloud(result, axes));
          setLoadedFrame(frameIndex);
          setSelection(undefined);
        }
      }).finally(() => alive && setLoading(undefined));
    }, LOAD_DELAY_MS);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [api, guarded, analysis.id, analysis.modelName, frameIndex, axes]);

  useEffect(() => {
    const stage = stageRef.current;
    if (!stage || !cloud) return;
    return mountScene(stage, lassoRef.current!, cloud, { onHover: setHover, onLasso: setSelection, onFps: setFps });
  }, [cloud]);

  // The hovered point's pixel, or the lassoed points' pixels, marked on the frame viewer.
  useEffect(() => {
    if (!cloud || loadedFrame === undefined) return marks.set(undefined);
    const focus = hover === undefined ? undefined : cloud.pixels[hover]!;
    const pixels = selection ?? (focus === undefined ? new Uint32Array() : Uint32Array.of(focus));
    marks.set({ frameIndex: loadedFrame, mapWidth: cloud.width, mapHeight: cloud.height, pixels, focus });
  }, [hover, selection, cloud, loadedFrame, marks]);
  useEffect(() => () => marks.set(undefined), [marks]);

  const startMask = () => {
    if (!cloud || !selection || loadedFrame === undefined) return;
    try {
      const draft = draftFor(analysis.id);
      const shot = draft.addFrame(loadedFrame, { width: cloud.width, height: cloud.height });
      draft.change(() => {
        shot.history.checkpoint();
        // The points are a sample (about one pixel in nine): a small disc around each fills the gaps.
        for (const pixel of selection)
          stampDisc(shot.history.mask, shot.history.size, pixel % cloud.width, Math.floor(pixel / cloud.width), 1.5, 1);
      });
      toast(
        'info',
        `Frame ${loadedFrame} added to the teaching draft with ${selection.length} lassoed points: refine it in the Teach tab`,
      );
    } catch (error) {
      toast('error', error instanceof Error ? error.message : String(error));
    }
  };

  const hovered = hover !== undefined && cloud ? (cloud.classNames[cloud.classes[hover]!] ?? 'unknown') : undefined;
  return (
    <div className={`metric-space${fullscreen ? ' fullscreen' : ''}`} data-testid="metric-space">
      <div className="teach-row muted">
        {cloud ? (
          <span data-testid="metric-count" title={unplacedNote(cloud)}>
            frame {loadedFrame}: {cloud.count.toLocaleString()} pixels · {layoutQuality(cloud)}
          </span>
        ) : (
          <span>Embedding the frame…</span>
        )}
        <span className="spacer" />
        {cloud && <AxisPicker dim={cloud.dim} axes={axes} onChange={setAxes} />}
        <span data-testid="metric-fps">{fps} fps</span>
        <button
          onClick={() => setFullscreen((on) => !on)}
          title={fullscreen ? 'Back to the side panel (Esc)' : 'Fill the window'}
          data-testid="metric-fullscreen"
        >
          {fullscreen ? '✕ close' : '⤢ full'}
        </button>
      </div>
      <div className="metric-stage" ref={stageRef}>
        <canvas className="metric-lasso" ref={lassoRef} />
        {loading && <LoadingNote {...loading} />}
      </div>
      <div className="teach-row">
        {hovered && <span>hover: {hovered}</span>}
        {selection && (
          <>
            <span>{selection.length.toLocaleString()} points lassoed</span>
            <button onClick={startMask} data-testid="metric-start-mask">
              Start a teaching mask
            </button>
            <button
              onClick={() => {
                if (!cloud || loadedFrame === undefined) return;
                const mask = new Uint8Array(cloud.width * cloud.height);
                for (const pixel of selection) mask[pixel] = 1;
                findSimilar({
                  sessionId: session.id,
                  analysisId: analysis.id,
                  frameIndex: loadedFrame,
                  query: { kind: 'mask', mask: encodeRle(mask, cloud.width, cloud.height) },
                  origin: `the ${selection.length.toLocaleString()} lassoed points of frame ${loadedFrame}`,
                });
              }}
              title="Search every drive for regions like the lassoed pixels"
              data-testid="metric-find-similar"
            >
              Find more like this
            </button>
            <button onClick={() => setSelection(undefined)}>Clear</button>
          </>
        )}
        {!selection && <span className="muted">Shift+drag: lasso</span>}
      </div>
    </div>
  );
}

/** What is being fetched and for how long, so a slow first embedding (a busy engine) is not a blank box. */
function LoadingNote({
  frameIndex,
  since,
  samples,
  axes,
}: {
  frameIndex: number;
  since: number;
  samples: number;
  axes: CloudAxes;
}) {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(performance.now()), 200);
    return () => clearInterval(timer);
  }, []);
  return (
    <div className="metric-progress" data-testid="metric-progress">
      <div className="metric-progress-bar" />
      {axes === 'neighbours' ? 'Arranging' : 'Embedding'} frame {frameIndex}: {samples.toLocaleString()} points ·{' '}
      {((now - since) / 1000).toFixed(1)} s
    </div>
  );
}

/** What the view keeps of the embedding: the variance its axes explain, or the neighbours it keeps. */
function layoutQuality(cloud: ScaledCloud): string {
  const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
  if (cloud.neighboursKept !== null) {
    const unplaced = classesWithoutPrototype(cloud).length;
    const absent = unplaced > 0 ? ` · ${unplaced} ${unplaced === 1 ? 'class' : 'classes'} not in this sample` : '';
    return `neighbours layout keeps ${percent(cloud.neighboursKept)} of each point's 10 nearest${absent}`;
  }
  const explained = percent(cloud.explained.reduce((a, b) => a + b, 0));
  return cloud.axes === 'pca' ? `PCA explains ${explained}` : `channels explain ${explained}`;
}

function unplacedNote(cloud: ScaledCloud): string | undefined {
  const names = classesWithoutPrototype(cloud);
  return names.length > 0
    ? `No pixel of these classes is in the sample, so the layout has no place for their prototypes: ${names.join(', ')}`
    : undefined;
}

/** The classes the view shows no prototype for (the neighbours layout leaves out classes absent from the sample). */
function classesWithoutPrototype(cloud: ScaledCloud): string[] {
  return cloud.classNames.filter((name) => !cloud.prototypes.some((prototype) => prototype.name === name));
}

const AXES_HELP: Record<'pca' | 'neighbours' | 'channels', string> = {
  pca: 'The three directions of largest variance: distances read straight, but small classes crowd together',
  neighbours:
    'Pixels near each other in the embedding stay near (UMAP, 5,000 points): clusters to lasso; the axes and distances between clusters mean nothing',
  channels: 'Three embedding channels as x, y, z: each built-in prototype sits on its own axis',
};

/** PCA, the neighbours layout, or three chosen embedding channels as the axes. */
function AxisPicker({ dim, axes, onChange }: { dim: number; axes: CloudAxes; onChange: (next: CloudAxes) => void }) {
  const options = Array.from({ length: dim }, (_, c) => c);
  const kind = Array.isArray(axes) ? 'channels' : axes;
  return (
    <span className="teach-row">
      <select
        value={kind}
        title={AXES_HELP[kind]}
        onChange={(event) => {
          const value = event.target.value;
          onChange(value === 'channels' ? [0, 1, Math.min(2, dim - 1)] : (value as 'pca' | 'neighbours'));
        }}
        data-testid="metric-axes"
      >
        <option value="pca">PCA</option>
        <option value="neighbours">neighbours</option>
        <option value="channels">channels</option>
      </select>
      {Array.isArray(axes) &&
        axes.map((channel, axis) => (
          <select
            key={axis}
            value={channel}
            title={`${'xyz'[axis]} axis`}
            onChange={(event) =>
              onChange(axes.map((c, i) => (i === axis ? Number(event.target.value) : c)) as [number, number, number])
            }
          >
            {options.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        ))}
    </span>
  );
}

interface SceneCallbacks {
  onHover(index: number | undefined): void;
  onLasso(pixels: Uint32Array | undefined): void;
  onFps(fps: number): void;
}

/** Builds the three.js scene in `stage`; returns the cleanup. */
function mountScene(
  stage: HTMLDivElement,
  lasso: HTMLCanvasElement,
  cloud: ScaledCloud,
  callbacks: SceneCallbacks,
): () => void {
  let width = stage.clientWidth || 320;
  let height = stage.clientHeight || 320;
  const renderer = new THREE.WebGLRenderer({ antialias: false });
  renderer.setPixelRatio(1);
  renderer.setSize(width, height);
  stage.prepend(renderer.domElement);
  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(50, width / height, 0.01, 100);
  camera.position.set(1.6, 1.2, 2.2);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;

  const { known, unknown } = buildPoints(cloud);
  scene.add(known.points, unknown.points);
  const labels = cloud.prototypes.map((prototype) => {
    const sphere = new THREE.Mesh(
      new THREE.SphereGeometry(prototype.taught ? 0.06 : 0.045, 16, 12),
      new THREE.MeshBasicMaterial({ color: classColor(prototype.color) }),
    );
    sphere.position.set(...prototype.scaled);
    scene.add(sphere);
    const label = document.createElement('div');
    label.className = 'metric-label';
    label.textContent = prototype.taught ? `★ ${prototype.name}` : prototype.name;
    stage.append(label);
    return { label, position: sphere.position };
  });

  const raycaster = new THREE.Raycaster();
  raycaster.params.Points = { threshold: 0.02 };
  const pointer = new THREE.Vector2();
  let lassoPath: [number, number][] | undefined;
  const lassoContext = lasso.getContext('2d')!;
  lasso.width = width;
  lasso.height = height;

  const local = (event: PointerEvent): [number, number] => {
    const rect = renderer.domElement.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
  const onDown = (event: PointerEvent) => {
    if (!event.shiftKey) return;
    controls.enabled = false;
    lassoPath = [local(event)];
  };
  const onMove = (event: PointerEvent) => {
    const [x, y] = local(event);
    if (lassoPath) {
      lassoPath.push([x, y]);
      lassoContext.clearRect(0, 0, width, height);
      lassoContext.strokeStyle = '#fff';
      lassoContext.beginPath();
      lassoPath.forEach(([px, py], i) => (i ? lassoContext.lineTo(px, py) : lassoContext.moveTo(px, py)));
      lassoContext.closePath();
      lassoContext.stroke();
      return;
    }
    pointer.set((x / width) * 2 - 1, -(y / height) * 2 + 1);
    raycaster.setFromCamera(pointer, camera);
    const hit = raycaster.intersectObjects([unknown.points, known.points])[0];
    callbacks.onHover(
      hit?.index === undefined ? undefined : (hit.object === unknown.points ? unknown.order : known.order)[hit.index],
    );
  };
  const onUp = () => {
    if (!lassoPath) return;
    const path = lassoPath;
    lassoPath = undefined;
    controls.enabled = true;
    lassoContext.clearRect(0, 0, width, height);
    if (path.length < 3) return callbacks.onLasso(undefined);
    const projected = new THREE.Vector3();
    const chosen: number[] = [];
    for (let i = 0; i < cloud.count; i++) {
      projected.set(cloud.scaled[i * 3]!, cloud.scaled[i * 3 + 1]!, cloud.scaled[i * 3 + 2]!).project(camera);
      if (insidePolygon(((projected.x + 1) / 2) * width, ((1 - projected.y) / 2) * height, path))
        chosen.push(cloud.pixels[i]!);
    }
    callbacks.onLasso(chosen.length ? Uint32Array.from(chosen) : undefined);
  };
  // The view fills the window on request: follow the stage's size.
  const resize = new ResizeObserver(() => {
    [width, height] = [stage.clientWidth || 320, stage.clientHeight || 320];
    renderer.setSize(width, height);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    [lasso.width, lasso.height] = [width, height];
  });
  resize.observe(stage);
  renderer.domElement.addEventListener('pointerdown', onDown, { capture: true });
  renderer.domElement.addEventListener('pointermove', onMove);
  window.addEventListener('pointerup', onUp);

  let frames = 0;
  let since = performance.now();
  let running = true;
  const screen = new THREE.Vector3();
  const animate = () => {
    if (!running) return;
    controls.update();
    renderer.render(scene, camera);
    placeLabels(
      labels.map(({ label, position }) => {
        screen.copy(position).project(camera);
        return { label, x: ((screen.x + 1) / 2) * width, y: ((1 - screen.y) / 2) * height, visible: screen.z < 1 };
      }),
    );
    frames++;
    const now = performance.now();
    if (now - since >= 1000) {
      callbacks.onFps(Math.round((frames * 1000) / (now - since)));
      frames = 0;
      since = now;
    }
    requestAnimationFrame(animate);
  };
  requestAnimationFrame(animate);

  return () => {
    running = false;
    resize.disconnect();
    window.removeEventListener('pointerup', onUp);
    controls.dispose();
    for (const { label } of labels) label.remove();
    scene.traverse((object) => {
      if (object instanceof THREE.Mesh || object instanceof THREE.Points) {
        const drawn = object as THREE.Mesh<THREE.BufferGeometry, THREE.Material>;
        drawn.geometry.dispose();
        drawn.material.dispose();
      }
    });
    renderer.dispose();
    renderer.domElement.remove();
  };
}

/**
 * Puts each prototype label above its sphere, or, where that would cover a label already placed, a line
 * lower (up to LABEL_TRIES lines), else hides it: labels of prototypes close on screen never overprint.
 */
function placeLabels(items: { label: HTMLDivElement; x: number; y: number; visible: boolean }[]) {
  const placed: { left: number; top: number; right: number; bottom: number }[] = [];
  for (const { label, x, y, visible } of items) {
    const [w, h] = labelSize(label);
    let spot: (typeof placed)[number] | undefined;
    for (let line = 0; visible && !spot && line < LABEL_TRIES; line++) {
      // Lines tried: above the sphere, then one up, one down, two up, two down.
      const top = y - h * 1.2 + (h + 1) * Math.ceil(line / 2) * (line % 2 ? -1 : 1);
      const box = { left: x - w / 2, top, right: x + w / 2, bottom: top + h };
      if (
        !placed.some(
          (other) =>
            box.left < other.right && other.left < box.right && box.top < other.bottom && other.top < box.bottom,
        )
      )
        spot = box;
    }
    label.style.display = spot ? '' : 'none';
    if (!spot) continue;
    placed.push(spot);
    label.style.left = `${spot.left}px`;
    label.style.top = `${spot.top}px`;
  }
}
const LABEL_TRIES = 5;

const labelSizes = new WeakMap<HTMLDivElement, [number, number]>();

/**
 * A label's drawn size, measured once. A hidden label measures 0 x 0, so it is measured invisibly shown: placing
 * a long name ("traffic light") with a guessed width would let it overprint its neighbour once shown.
 */
function labelSize(label: HTMLDivElement): [number, number] {
  let size = labelSizes.get(label);
  if (size) return size;
  const hidden = label.style.display === 'none';
  if (hidden) Object.assign(label.style, { visibility: 'hidden', display: '' });
  size = [label.offsetWidth, label.offsetHeight];
  if (hidden) Object.assign(label.style, { visibility: '', display: 'none' });
  if (size[0] === 0) return [40, 14]; // not laid out yet: a guess until it is
  labelSizes.set(label, size);
  return size;
}

/** Known and unknown points as two clouds, so unknown ones can be drawn larger; `order` maps back to cloud indices. */
function buildPoints(cloud: ScaledCloud) {
  const build = (wanted: (cls: number) => boolean, size: number, colour: (cls: number) => THREE.Color) => {
    const order: number[] = [];
    for (let i = 0; i < cloud.count; i++) if (wanted(cloud.classes[i]!)) order.push(i);
    const positions = new Float32Array(order.length * 3);
    const colours = new Float32Array(order.length * 3);
    order.forEach((index, k) => {
      positions.set(cloud.scaled.subarray(index * 3, index * 3 + 3), k * 3);
      const c = colour(cloud.classes[index]!);
      colours.set([c.r, c.g, c.b], k * 3);
    });
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute('color', new THREE.BufferAttribute(colours, 3));
    return {
      points: new THREE.Points(geometry, new THREE.PointsMaterial({ size, vertexColors: true, sizeAttenuation: true })),
      order,
    };
  };
  const palette = cloud.classColors.map(classColor);
  return {
    known: build(
      (cls) => cls !== 255,
      0.012,
      (cls) => palette[cls] ?? srgb(128, 128, 128),
    ),
    unknown: build(
      (cls) => cls === 255,
      0.03,
      () => UNKNOWN_COLOR,
    ),
  };
}
