/**
 * The one API between the renderer and the main side. Every method names a request and a response schema;
 * every notification (what the main side pushes unasked: progress, notices) names a payload schema. Both transports (Electron IPC and the review server) validate against
 * these at the boundary, so a malformed payload never reaches a service.
 */
import type { z } from 'zod';
import { systemMethods } from './system.js';
import { systemNotifications } from './notifications.js';
import { libraryMethods, libraryNotifications } from './library.js';
import { exportMethods, exportNotifications } from './export.js';
import { clipMethods, clipNotifications } from './clip.js';
import { modelReportMethods } from './model-report.js';
import { teachingMethods } from './teaching.js';

export const methods = {
  ...systemMethods,
  ...libraryMethods,
  ...exportMethods,
  ...clipMethods,
  ...modelReportMethods,
  ...teachingMethods,
} as const;

export const notifications = {
  ...systemNotifications,
  ...libraryNotifications,
  ...exportNotifications,
  ...clipNotifications,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type Request<M extends MethodName> = z.input<Methods[M]['request']>;
export type Response<M extends MethodName> = z.output<Methods[M]['response']>;

export type Notifications = typeof notifications;
export type NotificationName = keyof Notifications;
export type NotificationPayload<N extends NotificationName> = z.output<Notifications[N]>;

export const methodNames = Object.keys(methods) as MethodName[];
export const notificationNames = Object.keys(notifications) as NotificationName[];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(methods, name);
}

export function isNotificationName(name: unknown): name is NotificationName {
  return typeof name === 'string' && Object.hasOwn(notifications, name);
}

/** The typed client both transports give the renderer. */
export interface ApiClient {
  call<M extends MethodName>(method: M, request: Request<M>): Promise<Response<M>>;
  /** Listens to one notification; the function it returns stops listening. */
  on<N extends NotificationName>(name: N, listener: (payload: NotificationPayload<N>) => void): () => void;
  /** URL of a binary resource (frames, maps, thumbnails) under the transport's media root. */
  mediaUrl(path: string): string;
}

export * from './common.js';
export * from './errors.js';
export * from './packed.js';
export * from './bridge.js';
export * from './system.js';
export * from './notifications.js';
export * from './media.js';
export * from './library.js';
export * from './export.js';
export * from './clip.js';
export * from './model-report.js';
export * from './teaching.js';
