// Mounts the Scalar API reference (/docs/scalar.js, served from this origin) on the document this
// deployment serves. Nothing is fetched from another origin: no fonts, no request proxy, no telemetry.
Scalar.createApiReference('#reference', {
  url: '/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  hideClientButton: false,
  showDeveloperTools: 'never',
  agent: { disabled: true },
  documentDownloadType: 'json',
  // Every operation in the sidebar from the start (the tags would otherwise open one at a time).
  defaultOpenAllTags: true,
});
