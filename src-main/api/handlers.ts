import type { z } from 'zod';
import type { MethodName, Methods } from '../../src-shared/contract/index.js';
import type { AppContext } from './context.js';

export type Handler<M extends MethodName> = (
  request: z.output<Methods[M]['request']>,
  context: AppContext,
) => Promise<z.output<Methods[M]['response']>> | z.output<Methods[M]['response']>;

export type HandlerGroup<K extends MethodName> = { [M in K]: Handler<M> };
export type Handlers = HandlerGroup<MethodName>;
