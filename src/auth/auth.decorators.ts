import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Caller } from './caller.js';

/** Metadata key `JwtAuthGuard` looks for to let a route through without a token. */
export const IS_PUBLIC = 'cronwarden:isPublic';

/** Marks a controller or route as reachable without a token (health, metrics, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Injects the authenticated `Caller` of the request into a route handler parameter. */
export const CurrentCaller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Caller => context.switchToHttp().getRequest<{ user: Caller }>().user,
);
