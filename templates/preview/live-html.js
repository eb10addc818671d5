// Added to the HTML view only when it is opened with ?live=1: reloads the document when its
// handout is rendered again, and comes back to the same scroll position.
(() => {
  "use strict";
  const item = decodeURIComponent(location.pathname.split("/").pop().replace(/\.html$/, ""));
  const key = "clinicpress-live-scroll:" + location.pathname;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    window.addEventListener("load", () => window.scrollTo(0, Number(saved)));
  }
  let rev = null;
  async function currentRev() {
    const state = await (await fetch("/api/state", { cache: "no-store" })).json();
    const entry = state.items.find((i) => i.id === item);
    return entry ? entry.rev : null;
  }
  currentRev().then((r) => { rev = r; });
  const events = new EventSource("/events");
  events.onmessage = async () => {
    const now = await currentRev().catch(() => rev);
    if (rev !== null && now !== null && now !== rev) {
      sessionStorage.setItem(key, String(window.scrollY));
      location.reload();
    }
    if (rev === null) rev = now;
  };
})();
