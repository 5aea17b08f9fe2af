/* tagtrail first-party snippet: page views, track, identify. No dependencies.
   <script async src="https://HOST/t.js" data-key="WRITE_KEY" [data-cookieless] [data-api="https://HOST"]></script> */
(function (w, d) {
  "use strict";
  if (w.tagtrail && w.tagtrail.v) return;
  var s = d.currentScript, nav = w.navigator, loc = w.location;
  var key = s && s.getAttribute("data-key");
  var cookieless = !!(s && s.hasAttribute("data-cookieless"));
  var api = (s && s.getAttribute("data-api")) || (s && s.src ? new URL(s.src).origin : "");
  var queue = [], timer = null, uid = null, aid = null;
  function uuid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }
  if (!cookieless) {
    var m = d.cookie.match(/(?:^|; )tt_aid=([^;]*)/);
    aid = m ? decodeURIComponent(m[1]) : uuid();
    d.cookie = "tt_aid=" + encodeURIComponent(aid) + "; Max-Age=31536000; Path=/; SameSite=Lax" +
      (loc.protocol === "https:" ? "; Secure" : "");
  }
  function context() {
    return {
      page: { url: loc.href, referrer: d.referrer, title: d.title, path: loc.pathname, search: loc.search },
      userAgent: nav.userAgent,
      library: { name: "tagtrail.js", version: "1" }
    };
  }
  function flush() {
    timer = null;
    if (!queue.length) return;
    var body = { batch: queue, sentAt: new Date().toISOString(), writeKey: key };
    if (cookieless) body.cookieless = true;
    queue = [];
    var text = JSON.stringify(body), url = api + "/v1/batch";
    try {
      if (nav.sendBeacon && nav.sendBeacon(url, new Blob([text], { type: "text/plain" }))) return;
    } catch (e) { /* fall back to fetch */ }
    if (w.fetch) w.fetch(url, { method: "POST", body: text, keepalive: true, headers: { "Content-Type": "text/plain" } });
  }
  function send(type, fields) {
    var ev = { type: type, messageId: uuid(), timestamp: new Date().toISOString(), context: context() };
    for (var k in fields) if (fields[k] !== undefined) ev[k] = fields[k];
    if (aid) ev.anonymousId = aid;
    if (uid && !ev.userId) ev.userId = uid;
    queue.push(ev);
    if (!timer) timer = setTimeout(flush, 0);
  }
  var tt = {
    v: 1,
    page: function (name, properties) {
      send("page", { name: name, properties: properties || { title: d.title } });
    },
    track: function (event, properties) { send("track", { event: event, properties: properties || {} }); },
    identify: function (userId, traits) { uid = String(userId); send("identify", { userId: uid, traits: traits || {} }); },
    flush: flush
  };
  w.tagtrail = tt;
  tt.page();
  // the identity hint of a recipient link: sent with the page view above, then hidden
  if (/[?&]tt_hint=/.test(loc.search) && w.history && w.history.replaceState) {
    var q = loc.search.slice(1).split("&").filter(function (p) { return p.indexOf("tt_hint=") !== 0; }).join("&");
    w.history.replaceState(w.history.state, "", loc.pathname + (q ? "?" + q : "") + loc.hash);
  }
  w.addEventListener("pagehide", flush);
})(window, document);
