import { extname } from 'node:path';
import type { MediaFile, MediaRouter } from './media.js';
import type { Library, MapKind } from '../library/index.js';
import type { HandlerGroup } from './handlers.js';

type LibraryMethod =
  | 'sessions.list'
  | 'sessions.get'
  | 'sessions.import'
  | 'sessions.delete'
  | 'analysis.start'
  | 'analysis.cancel'
  | 'analysis.list'
  | 'timeline.get'
  | 'frames.get'
  | 'frames.top'
  | 'frames.regions'
  | 'events.list'
  | 'events.preview'
  | 'flags.list'
  | 'flags.add'
  | 'flags.update'
  | 'flags.remove';

export const libraryHandlers: HandlerGroup<LibraryMethod> = {
  'sessions.list': (_request, { library }) => library.sessions.list(),
  'sessions.get': ({ sessionId }, { library }) => library.sessions.get(sessionId),
  'sessions.import': async ({ paths, name, imageFps, analyse }, context) => {
    const session = await context.analyses.importSession(paths, name, { imageFps });
    if (analyse) await context.analyses.startAnalysis(session.id, analyse);
    context.notifications.emit('sessions.changed', { sessionId: session.id });
    return context.library.sessions.get(session.id);
  },
  'sessions.delete': async ({ sessionId }, context) => {
    await context.analyses.deleteSession(sessionId);
    context.notifications.emit('sessions.changed', { sessionId });
    return { ok: true as const };
  },
  'analysis.start': ({ sessionId, model, sampleFps }, { analyses }) =>
    analyses.startAnalysis(sessionId, { model, sampleFps }),
  'analysis.cancel': ({ analysisId }, { analyses }) => analyses.cancel(analysisId),
  'analysis.list': ({ sessionId }, { library }) => library.analyses.list(sessionId),
  'timeline.get': ({ analysisId }, { library }) => library.frames.timeline(analysisId),
  'frames.get': ({ analysisId, frameIndex }, { library }) => library.frames.get(analysisId, frameIndex),
  'frames.top': (query, { library }) => library.frames.top(query),
  'frames.regions': ({ analysisId, frameIndex }, { library }) => library.frames.regions(analysisId, frameIndex),
  'events.list': async ({ analysisId, settings }, { library }) => {
    const events = settings
      ? await library.events.recompute(analysisId, settings)
      : await library.events.list(analysisId);
    return { settings: await library.analyses.eventSettings(analysisId), events };
  },
  'events.preview': async ({ analysisId, settings }, { library }) => ({
    count: await library.events.count(analysisId, settings),
  }),
  'flags.list': ({ sessionId }, { library }) => library.flags.list(sessionId),
  'flags.add': (request, { library }) => library.flags.add(request),
  'flags.update': ({ flagId, ...change }, { library }) => library.flags.update(flagId, change),
  'flags.remove': async ({ flagId }, { library }) => {
    await library.flags.remove(flagId);
    return { ok: true as const };
  },
};

const mapRoutes: { prefix: string; kind: MapKind; contentType: string; extension: string }[] = [
  { prefix: 'frame', kind: 'preview', contentType: 'image/jpeg', extension: 'jpg' },
  { prefix: 'classmap', kind: 'class_map', contentType: 'image/png', extension: 'png' },
  { prefix: 'oodmap', kind: 'ood_map', contentType: 'image/png', extension: 'png' },
];

/** Serves the stored per-frame images and session thumbnails (paths in src-shared/contract/media.ts). */
export function registerLibraryMedia(media: MediaRouter, library: Library): void {
  for (const route of mapRoutes) {
    const pattern = new RegExp(`^(\\d+)/(\\d+)\\.${route.extension}$`);
    media.register(route.prefix, async (path) => {
      const match = pattern.exec(path);
      const body = match && (await library.frames.map(Number(match[1]), Number(match[2]), route.kind));
      return body ? { contentType: route.contentType, body } : undefined;
    });
  }
  media.register('thumbnail', async (path) => {
    const match = /^(\d+)\.jpg$/.exec(path);
    const body = match && (await library.sessions.thumbnail(Number(match[1])));
    return body ? { contentType: 'image/jpeg', body } : undefined;
  });
  media.registerFile('source', async (path) => sourceVideo(library, path));
}

/**
 * A session's source video by its position: the route names a session and a number, never a path, so only
 * files registered at import can be served. Image folders have no single file to play.
 */
async function sourceVideo(library: Library, path: string): Promise<MediaFile | undefined> {
  const match = /^(\d+)\/(\d+)$/.exec(path);
  if (!match) return undefined;
  const [sessionId, position] = [Number(match[1]), Number(match[2])];
  const source = (await library.sessions.sources(sessionId)).find((candidate) => candidate.position === position);
  if (source?.kind !== 'video') return undefined;
  return {
    file: source.path,
    contentType: videoType(source.path),
    label: `source ${position} of session ${sessionId}`,
  };
}

const videoTypes: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.avi': 'video/x-msvideo',
};

function videoType(path: string): string {
  return videoTypes[extname(path).toLowerCase()] ?? 'application/octet-stream';
}
