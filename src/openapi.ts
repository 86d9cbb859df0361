import { applyDecorators, type INestApplication } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiResponse, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** One problem with a request, as a 400 lists it. */
class FieldProblemResponse {
  @ApiProperty({ example: 'cron' }) field: string;
  @ApiProperty({ example: 'cron: invalid cron expression "61 * * * *": …' }) message: string;
}

/** The body of every error answer. */
export class ErrorResponse {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ description: 'What went wrong; for a 400 it starts with the field.', example: 'pipeline: unknown pipeline "nope"; the config defines: main' })
  message: string;
  @ApiPropertyOptional({ description: 'The (first) field at fault, for a 400.', example: 'pipeline' }) field?: string;
  @ApiPropertyOptional({ type: [FieldProblemResponse], description: 'Every field at fault, for a 400 from validation.' }) errors?: FieldProblemResponse[];
}

const ERRORS: Record<number, string> = {
  400: 'Invalid input: `field` names the field, `message` says why.',
  401: 'No token, or a token that is malformed, expired, not yet valid, wrongly signed or for another issuer/audience.',
  403: 'The token carries no known role, or the caller may see this but not do this (e.g. a user and a system job).',
  404: 'No such job or run, or it belongs to another user.',
  409: 'Conflicts with the current state: a duplicate id, a config job, a run that already ended.',
  413: 'The body is larger than 64 KiB.',
  429: 'Too many requests from this address; see `Retry-After`.',
  503: 'The database is busy or unreachable just now; send the request again after `Retry-After` seconds.',
};

/** Documents these error answers of a route (see `ERRORS`). */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, description: ERRORS[status], type: ErrorResponse })));
}

/** For an /api controller: bearer auth, and the errors any of its routes may answer (401, 403, 429, 503). */
export const ApiProtected = (): ClassDecorator => applyDecorators(ApiBearerAuth(), ApiErrors(401, 403, 429, 503));

/** Builds the OpenAPI document of the app: every route and DTO, bearer (JWT) auth declared. */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('cronwarden')
    .setDescription('Scheduler daemon: jobs, runs and their output, pipelines, audit. Every /api route needs `Authorization: Bearer <JWT>`.')
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Serves the OpenAPI UI at /docs and the document at /docs-json, without a token. Call it after
 * `NestFactory.create` and before `app.init()`: routes added later come after Nest's 404 handler.
 */
export function setupOpenApi(app: INestApplication, version: string): OpenAPIObject {
  const document = buildOpenApiDocument(app, version);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  return document;
}
