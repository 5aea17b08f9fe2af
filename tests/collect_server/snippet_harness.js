// Runs /t.js in node with a fake page (no browser): prints what it sent and did, as JSON.
// usage: node snippet_harness.js T_JS_PATH PAGE_URL [cookieless]
"use strict";
const fs = require("fs");
const [file, pageUrl, mode] = process.argv.slice(2);
const url = new URL(pageUrl);
const sent = [], replaced = [];
let jar = "";
const cookies = [];
const location = {
  href: url.href, protocol: url.protocol, pathname: url.pathname, search: url.search, hash: url.hash,
};
const attrs = { "data-key": "tt_write_test", ...(mode === "cookieless" ? { "data-cookieless": "" } : {}) };
const document = {
  currentScript: {
    src: "http://127.0.0.1:9999/t.js",
    getAttribute: (n) => (n in attrs ? attrs[n] : null),
    hasAttribute: (n) => n in attrs,
  },
  referrer: "https://www.google.com/",
  title: "Welcome",
  get cookie() { return jar; },
  set cookie(v) { cookies.push(v); jar = v.split(";")[0]; },
};
const window = {
  navigator: {
    userAgent: "Mozilla/5.0 node",
    sendBeacon: (to, blob) => { sent.push({ to, blob }); return true; },
  },
  location,
  history: {
    state: null,
    replaceState: (_s, _t, u) => {
      replaced.push(u);
      const next = new URL(u, url.origin);
      Object.assign(location, { href: next.href, pathname: next.pathname, search: next.search });
    },
  },
  crypto: globalThis.crypto,
  addEventListener: () => {},
};
window.window = window;
const code = fs.readFileSync(file, "utf8");
new Function("window", "document", "setTimeout", "Blob", "URL", code)(window, document, setTimeout, Blob, URL);
window.tagtrail.track("Clicked CTA", { plan: "pro" });
window.tagtrail.identify("u-node", { plan: "pro" });
setTimeout(async () => {
  const bodies = [];
  for (const s of sent) bodies.push({ to: s.to, type: s.blob.type, body: JSON.parse(await s.blob.text()) });
  process.stdout.write(JSON.stringify({ bodies, cookies, replaced }));
}, 20);
