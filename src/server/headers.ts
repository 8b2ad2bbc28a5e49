import helmet from 'helmet';

/**
 * Security headers on every answer of the port (pages, API, artifacts, errors). The pages load only
 * their own bundled scripts; GraphiQL's editor needs inline styles and workers from blob: URLs. No page
 * may be framed: GraphiQL pre-fills an operation from `?query=` and the run pages have Cancel and Retry.
 */
export const securityHeaders = () =>
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        workerSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    // Served over plain HTTP on loopback by default: HSTS there would only confuse a later HTTPS setup.
    strictTransportSecurity: false,
  });
