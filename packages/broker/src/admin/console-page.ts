// The console's page and style sheet. The page is a shell: its script (console/main.ts, compiled
// to dist/admin/console/) builds every view from the admin API's JSON, with text nodes only.
// The Content-Security-Policy allows scripts, styles and requests from the admin server itself
// and nothing inline, so even a name that slipped into markup could not run.

/** The Content-Security-Policy of the console's responses. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The console's HTML shell. */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>stompede</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="console/style.css">
<script type="module" src="console/main.js"></script>
</head><body>
<header>
<a class="brand" href="#/">stompede</a>
<nav aria-label="pages">
<a href="#/" data-nav="overview">Overview</a>
<a href="#/destinations" data-nav="destinations">Destinations</a>
<a href="#/connections" data-nav="connections">Connections</a>
<a href="#/users" data-nav="users">Users</a>
</nav>
<span id="status" role="status">connecting…</span>
</header>
<div id="notice" role="alert" hidden></div>
<main id="page"></main>
<noscript>The console needs JavaScript. The JSON API (/api/overview, …) and /metrics work without it.</noscript>
</body></html>
`;

/** The console's style sheet: one column on a phone, tiles and wide tables on a desk. */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1a202c;background:#f7fafc}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.4em 1.2em;padding:.6em 1em;background:#1a365d;color:#fff}
header a{color:#e2e8f0;text-decoration:none}
.brand{font-weight:700;font-size:1.15em;color:#fff}
nav{display:flex;flex-wrap:wrap;gap:.2em .9em}
nav a{padding:.2em 0;border-bottom:2px solid transparent}
nav a[aria-current=page]{color:#fff;border-bottom-color:#63b3ed}
#status{margin-left:auto;font-size:.85em;color:#cbd5e0}
#status.down{color:#feb2b2}
#notice{margin:.8em 1em 0;padding:.6em .8em;border-radius:4px;cursor:pointer}
#notice.ok{background:#c6f6d5}#notice.error{background:#fed7d7}
main{padding:.5em 1em 2em;max-width:1400px}
h1{font-size:1.35em;margin:.6em 0;word-break:break-all}
h2{font-size:1.1em;margin:1.4em 0 .5em}h3{font-size:1em;margin:.8em 0 .3em}
a{color:#2b6cb0}
.muted,.crumbs{color:#718096}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6em}
.tile{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:.5em .7em}
.tile .label{display:block;font-size:.8em;color:#718096}
.tile b{font-size:1.35em;font-variant-numeric:tabular-nums}
.tile small{display:block;font-size:.75em;color:#718096}
.tile b.alarm{color:#c53030}
.toolbar{display:flex;flex-wrap:wrap;gap:.5em;align-items:center;margin:.5em 0}
input,select,textarea,button{font:inherit;padding:.35em .5em;border:1px solid #cbd5e0;border-radius:4px;background:#fff}
input[type=search],input[type=text]{min-width:14em;flex:1 1 14em;max-width:30em}
input[type=number]{width:5em}
button{cursor:pointer;background:#edf2f7}
button.danger{background:#fff5f5;border-color:#feb2b2;color:#9b2c2c}
button:disabled{opacity:.6;cursor:default}
.actions{display:flex;flex-wrap:wrap;gap:.6em;margin:.8em 0}
.confirm .question{font-weight:600}
.stack{display:flex;flex-direction:column;gap:.3em;max-width:40em}
.stack textarea{width:100%;font-family:ui-monospace,monospace}
label.inline{display:flex;gap:.4em;align-items:center}
.table-wrap{overflow-x:auto;background:#fff;border:1px solid #e2e8f0;border-radius:6px}
table{border-collapse:collapse;width:100%}
th,td{padding:.35em .7em;border-bottom:1px solid #edf2f7;text-align:left;white-space:nowrap}
td{word-break:break-all}
th{font-weight:600;color:#4a5568;background:#f7fafc}
.num{text-align:right;font-variant-numeric:tabular-nums}
button.sort{border:0;background:none;padding:0;font-weight:600;color:inherit}
th[aria-sort=ascending] button.sort::after{content:" ▲"}
th[aria-sort=descending] button.sort::after{content:" ▼"}
.empty{padding:.6em .8em;margin:0;color:#718096}
.status-up{color:#2f855a}.status-down{color:#c53030}
figure.chart{margin:0;background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:.5em}
canvas{display:block;max-width:100%}
.legend{display:flex;flex-wrap:wrap;gap:.3em 1em;font-size:.85em}
.legend i{display:inline-block;width:.8em;height:.8em;margin-right:.3em;border-radius:2px}
.readout{font-size:.8em;color:#4a5568;min-height:1.2em;font-variant-numeric:tabular-nums}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.5em 0 1em}
dl.facts dt{color:#718096}dl.facts dd{margin:0;word-break:break-all}
article.message{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:.4em .8em;margin:.6em 0}
article.message table.headers th{width:1%;color:#718096;background:none}
pre{white-space:pre-wrap;word-break:break-all;background:#f7fafc;padding:.5em;margin:.4em 0;max-height:30em;overflow:auto}
pre.hex{white-space:pre;word-break:normal;font-size:.85em}
@media (max-width:640px){
  .wide{display:none}
  main{padding:.4em .6em 2em}
  .tiles{grid-template-columns:repeat(2,1fr)}
  #status{margin-left:0;width:100%}
  dl.facts{grid-template-columns:1fr}
}
`;
