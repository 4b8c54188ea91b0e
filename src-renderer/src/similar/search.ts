import type {
  ApiClient,
  SimilarAnswer,
  SimilarQuery,
  SimilarResult,
  SourceBox,
} from '../../../src-shared/contract/index';
import { ValueStore } from '../session/context';
import { UNKNOWN_INDEX } from '../session/frame-layers';

/** The session panel's id (panels.ts): a search started anywhere in the session view opens it. */
export const FIND_MORE_PANEL = 'find-more';

/** What to look for: a region, lasso or mask on one frame of one analysis, and how it was picked. */
export interface SimilarSearch {
  sessionId: number;
  analysisId: number;
  frameIndex: number;
  query: SimilarQuery;
  /** Where the query came from, in words ("unknown region 0.83 by the road"). */
  origin: string;
}

export type Among = 'unknown' | 'all';

export interface SearchState {
  search: SimilarSearch;
  among: Among;
  status: 'searching' | 'done' | 'failed';
  answer?: SimilarAnswer;
  error?: string;
  /** The result last opened: its region is marked on the frame viewer while its frame is on screen. */
  opened?: SimilarResult;
}

/** Results asked for: the cut-off slider then narrows them on screen without asking again. */
const RESULT_LIMIT = 200;

/**
 * The search on show, kept outside React and outside any one session screen: opening a result in another
 * drive keeps the list, so the reviewer can go through the results one by one.
 */
export const searchState = new ValueStore<SearchState>();

/** Runs a search and publishes its progress; an answer to a search since replaced is dropped. */
export async function runSearch(api: ApiClient, search: SimilarSearch, among: Among = 'unknown'): Promise<void> {
  const state: SearchState = { search, among, status: 'searching' };
  searchState.set(state);
  try {
    const answer = await api.call('similar.find', {
      analysisId: search.analysisId,
      frameIndex: search.frameIndex,
      query: search.query,
      among,
      limit: RESULT_LIMIT,
    });
    if (searchState.get() === state) searchState.set({ ...state, status: 'done', answer });
  } catch (error) {
    if (searchState.get() === state)
      searchState.set({ ...state, status: 'failed', error: error instanceof Error ? error.message : String(error) });
  }
}

/** A result's identity in selections and lists. */
export const resultKey = (result: SimilarResult) =>
  `${result.analysisId}/${result.frameIndex}/${result.box.x},${result.box.y},${result.box.width},${result.box.height}`;

export interface ResultGroup {
  sessionId: number;
  sessionName: string;
  /** Results by event of that drive (null: frames in no event), in rank order of each group's best result. */
  events: { eventId: number | null; results: SimilarResult[] }[];
}

/** Results (nearest first) by drive, then by event, each group placed by its nearest result. */
export function groupResults(results: readonly SimilarResult[]): ResultGroup[] {
  const drives = new Map<number, ResultGroup>();
  for (const result of results) {
    let drive = drives.get(result.sessionId);
    if (!drive) {
      drive = { sessionId: result.sessionId, sessionName: result.sessionName, events: [] };
      drives.set(result.sessionId, drive);
    }
    let event = drive.events.find((group) => group.eventId === result.eventId);
    if (!event) {
      event = { eventId: result.eventId, results: [] };
      drive.events.push(event);
    }
    event.results.push(result);
  }
  return [...drives.values()];
}

/**
 * The similarity as a reviewer reads it: a percentage, 100 % being the query itself, with a tenth so that
 * near copies (the same object a frame later) still rank visibly.
 */
export const formatSimilarity = (similarity: number) => `${(similarity * 100).toFixed(1)}%`;

/** "1 analysis", "2 analyses". */
export const formatAnalyses = (count: number) => `${count.toLocaleString()} ${count === 1 ? 'analysis' : 'analyses'}`;

/** A source-pixel box at the maps' size, grown to whole pixels so the region is inside it. */
export function boxOnMap(
  box: SourceBox,
  source: { width: number; height: number },
  map: { width: number; height: number },
) {
  const [sx, sy] = [map.width / source.width, map.height / source.height];
  const x0 = Math.max(0, Math.floor(box.x * sx));
  const y0 = Math.max(0, Math.floor(box.y * sy));
  const x1 = Math.min(map.width, Math.ceil((box.x + box.width) * sx));
  const y1 = Math.min(map.height, Math.ceil((box.y + box.height) * sy));
  return { x0, y0, x1, y1 };
}

/** The pixels of one class value (255: unknown) inside a box of a class map: a found region's mask. */
export function regionMask(
  classMap: Uint8Array,
  mapWidth: number,
  box: { x0: number; y0: number; x1: number; y1: number },
  classValue: number,
): Uint8Array {
  const mask = new Uint8Array(classMap.length);
  for (let y = box.y0; y < box.y1; y++)
    for (let x = box.x0; x < box.x1; x++) if (classMap[y * mapWidth + x] === classValue) mask[y * mapWidth + x] = 1;
  return mask;
}

/** Remembers the result being opened, for its drive's session screen to mark. */
export function markOpened(result: SimilarResult): void {
  const state = searchState.get();
  if (state) searchState.set({ ...state, opened: result });
}

/** The pixels of a result's region on the stored maps of its frame (row-major indices). */
export function resultPixels(
  result: SimilarResult,
  source: { width: number; height: number },
  layers: { classMap: Uint8Array; mapWidth: number; mapHeight: number },
): Uint32Array {
  const map = { width: layers.mapWidth, height: layers.mapHeight };
  const mask = regionMask(layers.classMap, map.width, boxOnMap(result.box, source, map), classValueOf(result));
  const pixels: number[] = [];
  mask.forEach((bit, index) => bit && pixels.push(index));
  return Uint32Array.from(pixels);
}

/** The class map value of a result's pixels: unknown (255) or its class. */
export const classValueOf = (result: SimilarResult) =>
  result.kind === 'unknown' ? UNKNOWN_INDEX : (result.classIndex ?? UNKNOWN_INDEX);
