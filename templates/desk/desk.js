// The print desk page (clinicpress desk): search, filters, preview, basket and print.
// Everything typed stays in this page until it is sent, once, to make the packet.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("desk-data").textContent);
  const token = document.querySelector('meta[name="desk-token"]').content;
  const $ = (id) => document.getElementById(id);
  const practice = data.practice.name;
  const basket = [];  // slugs, in print order
  let previewSlug = null;

  const lang = () => $("lang").value;
  const variant = () => ($("large").checked ? "large-print" : "standard");
  const query = () => `lang=${encodeURIComponent(lang())}&variant=${encodeURIComponent(variant())}`;
  const version = (item) => item.versions[lang()];
  const bySlug = (slug) => data.items.find((i) => i.slug === slug);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function matches(v, words) {
    const hay = [v.title, v.description, ...v.keywords, ...v.topics].join(" ").toLocaleLowerCase();
    return words.every((w) => hay.includes(w));
  }

  function labels(v) {
    const tags = el("div", { class: "tags" });
    if (v.failed.length) tags.append(el("span", { class: "tag tag-failed", title: v.failed.join("; ") }, "Failed a check — cannot be printed"));
    if (v.draft) tags.append(el("span", { class: "tag tag-draft", title: v.reason }, `Draft — not approved by ${practice}`));
    if (!v.draft && !v.failed.length) tags.append(el("span", { class: "tag tag-ok" }, `Approved by ${practice}`));
    return tags;
  }

  function renderItems() {
    const words = $("search").value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    const list = $("items");
    list.replaceChildren();
    let shown = 0, missing = 0;
    for (const item of data.items) {
      const v = version(item);
      if (!v) { missing += 1; continue; }
      if (!matches(v, words)) continue;
      shown += 1;
      const chosen = basket.includes(item.slug);
      const headingId = `t-${item.slug}`;
      const add = el("button", {
        type: "button", class: chosen ? "" : "primary", disabled: v.failed.length > 0,
        "aria-describedby": headingId, onclick: () => toggle(item.slug),
      }, chosen ? "Remove" : "Add to packet");
      list.append(el("li", { class: "item" + (chosen ? " chosen" : ""), "data-slug": item.slug },
        el("img", { class: "thumb", src: `/thumb/${item.slug}.png?${query()}`, alt: `Page 1 of ${v.title}`, loading: "lazy", width: 240, height: 310 }),
        el("div", { class: "item-body" },
          el("h3", { id: headingId }, v.title),
          v.description ? el("p", { class: "desc" }, v.description) : null,
          labels(v),
          v.failed.length ? el("p", { class: "desc" }, v.failed[0]) : null,
          el("div", { class: "actions" },
            el("button", { type: "button", "aria-describedby": headingId, onclick: () => openPreview(item.slug) }, "Preview"),
            add))));
    }
    const langName = $("lang").selectedOptions[0].textContent;
    $("count").textContent = `${shown} handout${shown === 1 ? "" : "s"} shown` +
      (missing ? ` · ${missing} not available in ${langName}` : "");
    renderBasket();
  }

  function toggle(slug) {
    const i = basket.indexOf(slug);
    if (i >= 0) basket.splice(i, 1); else basket.push(slug);
    const v = version(bySlug(slug));
    say(i >= 0 ? `Removed ${v ? v.title : slug} from the packet.` : `Added ${v.title} to the packet (${basket.length} in total).`);
    renderItems();
  }

  function move(slug, by) {
    const i = basket.indexOf(slug), j = i + by;
    if (i < 0 || j < 0 || j >= basket.length) return;
    [basket[i], basket[j]] = [basket[j], basket[i]];
    renderBasket();
    say(`Moved to position ${j + 1}.`);
  }

  function renderBasket() {
    const ol = $("basket");
    ol.replaceChildren();
    for (const slug of basket) {
      const v = version(bySlug(slug));
      const title = v ? v.title : `${slug} (not in this language)`;
      ol.append(el("li", {}, el("div", { class: "row" },
        el("span", {}, title, v && v.draft ? el("span", { class: "muted" }, " (draft)") : null),
        el("span", {},
          el("button", { type: "button", "aria-label": `Move ${title} up`, onclick: () => move(slug, -1) }, "↑"),
          " ",
          el("button", { type: "button", "aria-label": `Remove ${title}`, onclick: () => toggle(slug) }, "Remove")))));
    }
    $("basket-empty").hidden = basket.length > 0;
  }

  function say(text) { $("status").textContent = text; }

  async function openPreview(slug) {
    previewSlug = slug;
    const v = version(bySlug(slug));
    const dialog = $("preview");
    $("preview-title").textContent = `Preview: ${v.title}`;
    $("preview-add").textContent = basket.includes(slug) ? "Remove from packet" : "Add to packet";
    $("preview-add").disabled = v.failed.length > 0;
    const pages = $("preview-pages");
    pages.replaceChildren(el("p", { role: "status" }, "Loading the pages…"));
    dialog.showModal();
    const r = await fetch(`/pages/${slug}?${query()}`);
    if (!r.ok) { pages.replaceChildren(el("p", { role: "alert" }, "This handout cannot be shown.")); return; }
    const info = await r.json();
    pages.replaceChildren(...info.sizes.map(([w, h], n) =>
      el("img", { src: `/page/${slug}/${n + 1}.png?${query()}`, width: w, height: h, alt: `${v.title}, page ${n + 1} of ${info.pages}` })));
  }

  async function print(event) {
    event.preventDefault();
    $("errors").replaceChildren();
    if (!basket.length) { showErrors([{ message: "Choose at least one handout first." }]); return; }
    const form = new FormData($("print-form"));
    const body = {
      token, items: basket.slice(), lang: lang(), variant: variant(),
      patient: { name: form.get("name"), note: form.get("note"), next_visit: form.get("next_visit"), clinician: form.get("clinician") },
    };
    $("print").disabled = true;
    say("Making the packet…");
    try {
      const r = await fetch("/api/packet", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (!r.ok) {
        const err = await r.json().catch(() => ({ problems: [{ message: `The desk answered ${r.status}.` }] }));
        showErrors(err.problems || []);
        say("");
        return;
      }
      const blob = await r.blob();
      const url = URL.createObjectURL(blob);
      const name = (/filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "") || [])[1] || "packet.pdf";
      if (navigator.pdfViewerEnabled) {
        // The browser shows PDFs itself: load the packet in a frame and open its print dialog.
        const frame = $("print-frame");
        frame.onload = () => {
          try { frame.contentWindow.focus(); frame.contentWindow.print(); } catch (e) { /* the link below opens it */ }
        };
        frame.src = url;
        const link = el("a", { href: url, target: "_blank", rel: "noopener" }, "open the PDF");
        $("status").replaceChildren("Packet ready: the print dialog opens now. If it does not, ", link, ".");
      } else {
        // No PDF viewer in this browser: save the file and print it from the PDF reader.
        const link = el("a", { href: url, download: name }, "Download the packet");
        $("status").replaceChildren("Packet ready. This browser cannot show PDFs: ", link, " and print it.");
      }
      setTimeout(() => URL.revokeObjectURL(url), 10 * 60 * 1000);
    } catch (e) {
      showErrors([{ message: "The desk did not answer. Is it still running?" }]);
      say("");
    } finally {
      $("print").disabled = false;
    }
  }

  function showErrors(problems) {
    $("errors").replaceChildren(...problems.map((p) =>
      el("p", {}, p.message + (p.hint ? ` — ${p.hint}` : ""))));
  }

  $("search").addEventListener("input", renderItems);
  $("lang").addEventListener("change", renderItems);
  $("large").addEventListener("change", renderItems);
  $("print-form").addEventListener("submit", print);
  $("clear").addEventListener("click", () => {
    for (const id of ["patient-name", "clinician", "next-visit", "note"]) $(id).value = "";
    say("The patient's details are cleared.");
    $("patient-name").focus();
  });
  $("preview-close").addEventListener("click", () => $("preview").close());
  $("preview-add").addEventListener("click", () => { if (previewSlug) toggle(previewSlug); $("preview").close(); });
  renderItems();
})();
