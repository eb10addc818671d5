// ClinicPress preview: follow the server's Server-Sent Events and swap in the new fragment,
// keeping the scroll position of the page and of the side list. No reload, no dependencies.
(() => {
  "use strict";
  const app = document.getElementById("app");
  const offline = document.getElementById("offline");
  let shown = Number(document.body.dataset.version || -1);
  let latest = shown;
  let running = false;
  let again = false;
  let toTop = false;
  let failures = 0;

  const currentItem = () => new URLSearchParams(location.search).get("item") || "";
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function preload(img) {
    // Decode the new images before the swap so the page never flashes empty sheets.
    const probe = new Image();
    probe.src = img.getAttribute("src");
    return probe.decode().catch(() => {});
  }

  function saveScroll() {
    const panes = {};
    app.querySelectorAll("[data-keep-scroll][id]").forEach((el) => { panes[el.id] = el.scrollTop; });
    return { x: window.scrollX, y: window.scrollY, panes };
  }

  function restoreScroll(saved) {
    Object.entries(saved.panes).forEach(([id, top]) => {
      const el = document.getElementById(id);
      if (el) el.scrollTop = top;
    });
    window.scrollTo(saved.x, saved.y);
  }

  async function refresh() {
    if (running) { again = true; return; }
    running = true;
    try {
      const response = await fetch("/fragment?item=" + encodeURIComponent(currentItem()), { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      // Preload the images that will be on screen (the first pages, or those the reader is at).
      const onScreen = new Set();
      app.querySelectorAll(".sheet img").forEach((img, i) => {
        const box = img.getBoundingClientRect();
        if (box.bottom > -200 && box.top < window.innerHeight + 200) onScreen.add(i);
      });
      const wanted = [...template.content.querySelectorAll(".sheet img")].filter((img, i) => {
        if (onScreen.has(i)) img.removeAttribute("loading");
        return !img.hasAttribute("loading");
      });
      await Promise.race([Promise.all(wanted.map(preload)), sleep(3000)]);
      const saved = saveScroll();
      if (toTop) { saved.x = 0; saved.y = 0; toTop = false; }
      app.replaceChildren(template.content);
      restoreScroll(saved);
      const layout = app.querySelector(".layout");
      if (layout) {
        shown = Number(layout.dataset.version);
        document.body.dataset.version = String(shown);
        document.title = layout.dataset.title || document.title;
      }
      failures = 0;
    } catch (err) {
      // The server is busy or restarting: try a few more times; the event stream covers the rest.
      failures += 1;
      if (failures <= 3) { await sleep(500); again = true; }
    } finally {
      running = false;
      if (again || (failures === 0 && latest > shown)) { again = false; refresh(); }
    }
  }

  // Choosing another item: fetch it in place, so the event stream and the side list's scroll stay.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-item]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (link.dataset.item === currentItem()) return;
    history.pushState({}, "", link.getAttribute("href"));
    toTop = true;
    refresh();
  });
  window.addEventListener("popstate", () => { toTop = true; refresh(); });

  // On first load, bring the chosen item into view in the side list.
  const current = app.querySelector(".nav-item.current");
  if (current) current.scrollIntoView({ block: "nearest" });

  function connect() {
    if (!("EventSource" in window)) {
      setInterval(refresh, 1000);  // very old browsers: poll
      return;
    }
    const events = new EventSource("/events");
    events.onopen = () => { offline.hidden = true; };
    events.onmessage = (event) => {
      latest = Number(event.data);
      if (latest !== shown) refresh();
    };
    events.onerror = () => {
      // EventSource retries by itself (every second); say so while the server is away.
      if (events.readyState !== EventSource.OPEN) offline.hidden = false;
    };
  }
  connect();
})();
