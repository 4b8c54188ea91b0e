/**
 * The one API between the renderer and the main side. Every method names a request and a response schema;
 * every event names a payload schema. Both transports (Electron IPC and the review server) validate against
 * these at the boundary, so a malformed payload never reaches a service.
 */
import type { z } from 'zod';
import { systemMethods } from './system.js';
import { systemEvents } from './events.js';
import { libraryEvents, libraryMethods } from './library.js';
import { exportEvents, exportMethods } from './export.js';
import { teachingMethods } from './teaching.js';

export const methods = {
  ...systemMethods,
  ...libraryMethods,
  ...exportMethods,
  ...teachingMethods,
} as const;

export const events = {
  ...systemEvents,
  ...libraryEvents,
  ...exportEvents,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type Request<M extends MethodName> = z.input<Methods[M]['request']>;
export type Response<M extends MethodName> = z.output<Methods[M]['response']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export const methodNames = Object.keys(methods) as MethodName[];
export const eventNames = Object.keys(events) as EventName[];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(methods, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}

/** The typed client both transports give the renderer. */
export interface ApiClient {
  call<M extends MethodName>(method: M, request: Request<M>): Promise<Response<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** URL of a binary resource (frames, maps, thumbnails) under the transport's media root. */
  mediaUrl(path: string): string;
}

export * from './common.js';
export * from './errors.js';
export * from './packed.js';
export * from './bridge.js';
export * from './system.js';
export * from './events.js';
export * from './media.js';
export * from './library.js';
export * from './export.js';
export * from './teaching.js';
