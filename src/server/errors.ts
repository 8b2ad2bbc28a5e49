import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../log.js';

/**
 * What a client is told about an error: the errors the API makes on purpose (GraphQLError: input,
 * permission, parse and validation refusals) as they are; anything else (a database error, a bug) as
 * "Internal server error" with an id that finds the full error in the log. Stack traces and internal
 * messages are shown only with SPEC_CHAIN_DEBUG_ERRORS=1.
 */
export interface ErrorExposure {
  debug: boolean;
  log: Logger;
}

export const INTERNAL_MESSAGE = 'Internal server error';

/** The error a resolver threw, under graphql-js's wrapping. */
const originalOf = (error: unknown): unknown =>
  error instanceof GraphQLError && error.originalError ? originalOf(error.originalError) : error;

/** For Apollo's formatError and the subscription socket alike. */
export function publicGraphqlError(formatted: GraphQLFormattedError, error: unknown, exposure: ErrorExposure): GraphQLFormattedError {
  const original = originalOf(error);
  if (original instanceof GraphQLError || exposure.debug) return formatted;
  const errorId = randomUUID();
  exposure.log.error({ err: original, errorId, path: formatted.path }, 'internal error in a GraphQL operation');
  return { message: INTERNAL_MESSAGE, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } };
}

/** The errors of one execution result (a subscription event) made public the same way. */
export function publicResult(result: ExecutionResult, exposure: ErrorExposure): ExecutionResult {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((e) => publicGraphqlError(e.toJSON(), e, exposure) as GraphQLError) };
}

/** A JSON error body in the shape of a GraphQL response, so clients read every refusal the same way. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/** Paths that serve nothing: JSON, not Express's HTML page. */
export function notFound(req: Request, res: Response): void {
  sendError(res, 404, 'NOT_FOUND', `Nothing is served at ${req.method} ${req.path}.`);
}

/**
 * The last error handler: body parser refusals (malformed JSON, too large) say what was wrong; any
 * other error is logged with an id and answered without its message or stack.
 */
export function errorHandler(exposure: ErrorExposure) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string; status?: number; limit?: number; message?: string; stack?: string };
    if (e.type === 'entity.parse.failed') return sendError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON.');
    if (e.type === 'entity.too.large') return sendError(res, 413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${e.limit} bytes.`);
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, 'BAD_REQUEST', exposure.debug ? String(e.message) : 'The request could not be read.');
    }
    const errorId = randomUUID();
    exposure.log.error({ err, errorId }, 'internal error in an HTTP request');
    res.status(500).json({
      errors: [{ message: exposure.debug ? String(e.message) : INTERNAL_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR', errorId, ...(exposure.debug ? { stacktrace: e.stack?.split('\n') } : {}) } }],
    });
  };
}
