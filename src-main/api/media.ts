/** A binary resource for the renderer: frames, maps, thumbnails. */
export interface MediaBody {
  contentType: string;
  body: Buffer;
}

/** A file on disk served with byte ranges (app/byte-range.ts): the source footage, too large to read whole. */
export interface MediaFile {
  contentType: string;
  file: string;
  /** Names the file in errors ("source 0 of session 3"), never its path. */
  label: string;
}

/** Answers media paths (see src-shared/contract/media.ts); undefined when the path names nothing. */
export type MediaResolver = (path: string) => Promise<MediaBody | undefined>;
/** Answers media paths that name a file to stream, never a path taken from the request. */
export type MediaFileResolver = (path: string) => Promise<MediaFile | undefined>;

type Route<R> = { prefix: string; resolve: R };

/** Media paths are routed by their first segment to the capability that owns them. */
export class MediaRouter {
  private readonly routes: Route<MediaResolver>[] = [];
  private readonly fileRoutes: Route<MediaFileResolver>[] = [];

  register(prefix: string, resolve: MediaResolver): void {
    this.routes.push({ prefix: routePrefix(prefix), resolve });
  }

  registerFile(prefix: string, resolve: MediaFileResolver): void {
    this.fileRoutes.push({ prefix: routePrefix(prefix), resolve });
  }

  resolve(path: string): Promise<MediaBody | undefined> {
    return route(this.routes, path);
  }

  resolveFile(path: string): Promise<MediaFile | undefined> {
    return route(this.fileRoutes, path);
  }
}

function routePrefix(prefix: string): string {
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

async function route<T>(
  routes: Route<(path: string) => Promise<T | undefined>>[],
  path: string,
): Promise<T | undefined> {
  if (path.includes('..')) return undefined;
  const found = routes.find((candidate) => path.startsWith(candidate.prefix));
  return found ? found.resolve(path.slice(found.prefix.length)) : undefined;
}
