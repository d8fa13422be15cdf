/**
 * The API reference page: Scalar's standalone bundle and its stylesheet, and the script that mounts it on
 * /openapi.json, all static assets of this deployment (public/docs/; the bundle is copied there from
 * @scalar/api-reference by scripts/docs-assets.mjs). The page itself has no inline script or style.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kith API reference</title>
<link rel="stylesheet" href="/docs/scalar.css">
</head>
<body>
<noscript>The reference needs JavaScript. The document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="reference"></div>
<script src="/docs/scalar.js"></script>
<script src="/docs/reference.js"></script>
</body>
</html>
`;

/**
 * Everything from this origin only. Scalar sets element styles from script (allowed: CSSOM, not inline
 * markup); images may be data: URLs (icons in the bundle); `connect-src 'self'` lets "Try it" call this API.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
