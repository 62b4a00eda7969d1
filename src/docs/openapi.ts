import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export const OPENAPI_PATH = 'openapi.json';
export const SWAGGER_UI_PATH = 'docs';

/** The OpenAPI document of the HTTP routes, from the controllers' decorators. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Parley HTTP API')
    .setDescription(
      "Health, metrics, the admin routes and the server API for the application's backend. " +
        'The Socket.IO API is described by the AsyncAPI document at /asyncapi.json; the contract is docs/PROTOCOL.md.',
    )
    .setVersion('1.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Serves the document at /openapi.json and, when `ui` is on, Swagger UI at /docs (off in
 * production unless DOCS_UI=true: it is a page for developers).
 */
export function serveOpenApi(app: INestApplication, ui: boolean): void {
  SwaggerModule.setup(SWAGGER_UI_PATH, app, () => openApiDocument(app), {
    ui,
    raw: ['json'],
    jsonDocumentUrl: OPENAPI_PATH,
  });
}
