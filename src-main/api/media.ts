/** A binary resource for the renderer: frames, maps, thumbnails. */
export interface MediaBody {
  contentType: string;
  body: Buffer;
}

/** Answers media paths (see src-shared/contract/media.ts); undefined when the path names nothing. */
export type MediaResolver = (path: string) => Promise<MediaBody | undefined>;

type Route = { prefix: string; resolve: MediaResolver };

/** Media paths are routed by their first segment to the capability that owns them. */
export class MediaRouter {
  private readonly routes: Route[] = [];

  register(prefix: string, resolve: MediaResolver): void {
    this.routes.push({ prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, resolve });
  }

  async resolve(path: string): Promise<MediaBody | undefined> {
    if (path.includes('..')) return undefined;
    const route = this.routes.find((candidate) => path.startsWith(candidate.prefix));
    return route ? route.resolve(path.slice(route.prefix.length)) : undefined;
  }
}
