// The search page: every piece of data goes into the DOM as text nodes (textContent / append), never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const MAX_MARKS = 2000; // bounds the highlight loop on long passages

  /** An element with attributes (class, href, ...) and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== "") node.append(child);
    }
    return node;
  }

  /** ASCII-only lower-casing keeps offsets identical to the original text. */
  const fold = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

  /** The text with every occurrence of the terms wrapped in <mark> (overlaps merged). */
  function highlight(text, terms) {
    const lower = fold(text);
    const ranges = [];
    for (const term of terms || []) {
      const t = fold(String(term));
      if (!t) continue;
      for (let i = lower.indexOf(t); i !== -1 && ranges.length < MAX_MARKS; i = lower.indexOf(t, i + 1)) {
        ranges.push([i, i + t.length]);
      }
    }
    ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const merged = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    const frag = document.createDocumentFragment();
    let at = 0;
    for (const [a, b] of merged) {
      if (a > at) frag.append(text.slice(at, a));
      frag.append(el("mark", null, text.slice(a, b)));
      at = b;
    }
    if (at < text.length) frag.append(text.slice(at));
    return frag;
  }

  const safeUrl = (url) => (typeof url === "string" && /^https?:\/\//i.test(url) ? url : null);

  function titleNode(item) {
    const title = item.title || "（无标题）";
    const href = safeUrl(item.url);
    return href
      ? el("a", { class: "title", href, target: "_blank", rel: "noopener noreferrer" }, title)
      : el("span", { class: "title" }, title);
  }

  function metaNode(item) {
    return el(
      "div",
      { class: "meta" },
      item.date ? el("span", null, item.date) : null,
      item.source ? el("span", null, item.source) : null,
      el("span", { class: "doc-id" }, item.doc_id),
    );
  }

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function showCitation(n) {
    const target = $(`cite-${n}`);
    if (!target) return;
    target.scrollIntoView({ behavior: "smooth", block: "center" });
    target.classList.remove("flash");
    void target.offsetWidth; // restart the animation
    target.classList.add("flash");
    target.focus({ preventScroll: true });
  }

  function citeLink(n) {
    const link = el("a", { class: "cite", href: `#cite-${n}`, "data-n": String(n) }, `[${n}]`);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      showCitation(n);
    });
    return link;
  }

  /** Answer text with its [n] markers turned into links to the citations below. */
  function answerNode(text, known) {
    const frag = document.createDocumentFragment();
    const re = /\[(\d+)\]/g;
    let at = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const n = Number(m[1]);
      if (!known.has(n)) continue;
      if (m.index > at) frag.append(text.slice(at, m.index));
      frag.append(citeLink(n));
      at = m.index + m[0].length;
    }
    if (at < text.length) frag.append(text.slice(at));
    return frag;
  }

  const STATUS_ZH = { signed: "签约", landed: "落地", operating: "投产/运营", planned: "计划中", withdrawn: "撤出/未落地" };

  /** Whether an answer is a corpus-wide list (a corpus-wide question that found no item falls back to passages). */
  const isCorpusWide = (data) =>
    Boolean(data.aggregate) && data.aggregate.n_items + data.aggregate.n_planned + data.aggregate.n_withdrawn > 0;

  /** Items of a corpus-wide answer grouped by the month of their first date ("YYYY-MM", undated last). */
  function byMonth(items) {
    const months = new Map();
    for (const item of items) {
      const month = item.first_date ? item.first_date.slice(0, 7) : "日期不详";
      if (!months.has(month)) months.set(month, []);
      months.get(month).push(item);
    }
    return [...months.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** The corpus-wide list (name, status, first date, articles, citations) and its timeline by month. */
  function renderCorpusWide(data, known) {
    const box = $("corpus-wide");
    const agg = data.aggregate;
    if (!isCorpusWide(data)) {
      box.hidden = true;
      return;
    }
    const marks = (item) => [...new Set((item.mentions || []).map((m) => m.citation))];
    const cites = (item) => marks(item).filter((n) => known.has(n)).map((n) => citeLink(n));
    $("cw-summary").textContent =
      `${agg.n_items} 项来自 ${agg.n_articles} 篇文章（计划中 ${agg.n_planned}，撤出/未落地 ${agg.n_withdrawn}）` +
      ` · 阅读 ${agg.scanned} 个段落${agg.truncated ? "，已达上限，可能不全" : ""}`;
    $("cw-items").replaceChildren(
      ...data.items.map((item) =>
        el(
          "tr",
          { class: `status-${item.status}` },
          el("td", { class: "cw-name" }, item.name || item.text),
          el("td", null, STATUS_ZH[item.status] || item.status || ""),
          el("td", null, item.first_date || "—"),
          el("td", null, String(item.articles || 0)),
          el("td", null, ...cites(item)),
        ),
      ),
    );
    $("cw-timeline").replaceChildren(
      ...byMonth(data.items).map(([month, items]) =>
        el(
          "li",
          { "data-month": month, "data-count": String(items.length) },
          el("span", { class: "month" }, month),
          el("span", { class: "count" }, String(items.length)),
          el("span", { class: "names" }, items.map((item) => item.name || item.text).join("、")),
        ),
      ),
    );
    box.hidden = false;
  }

  function renderAnswer(data) {
    const known = new Set((data.citations || []).map((c) => c.n));
    const text = $("answer-text");
    text.replaceChildren(answerNode(data.answer || "", known));
    text.classList.toggle("not-found", data.found === false);
    $("answer-items").replaceChildren(
      ...(isCorpusWide(data) ? [] : data.items || []).map((item) =>
        el("li", null, item.text, known.has(item.citation) ? citeLink(item.citation) : null),
      ),
    );
    renderCorpusWide(data, known);
    $("citations-title").hidden = !known.size;
    $("citations-title").textContent = data.found === false ? "最接近的段落（仅供参考，不是答案）" : "引用";
    $("citations").replaceChildren(
      ...(data.citations || []).map((c) =>
        el(
          "li",
          { id: `cite-${c.n}`, tabindex: "-1" },
          el("div", null, el("span", { class: "num" }, String(c.n)), titleNode(c)),
          metaNode(c),
          el("blockquote", { class: "quote" }, highlight(c.quote || "", data.terms)),
        ),
      ),
    );
    $("results").hidden = true;
    $("answer").hidden = false;
    setStatus("");
  }

  function renderHits(data) {
    $("hits").replaceChildren(
      ...(data.hits || []).map((h, i) =>
        el(
          "li",
          null,
          el("div", null, el("span", { class: "num" }, String(i + 1)), titleNode(h)),
          metaNode(h),
          el("p", { class: "passage" }, highlight(h.text || "", data.terms)),
        ),
      ),
    );
    $("answer").hidden = true;
    $("results").hidden = false;
    setStatus(data.hits && data.hits.length ? `${data.hits.length} 条结果` : "没有匹配的段落。");
  }

  function formValues() {
    const mode = document.querySelector('input[name="mode"]:checked').value;
    const values = { mode, q: $("q").value.trim(), k: Number($("k").value) };
    for (const name of ["since", "until", "source"]) {
      const v = $(name).value.trim();
      if (v) values[name] = v;
    }
    return values;
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && typeof body.detail === "string") return body.detail;
    } catch (_) {
      /* not JSON */
    }
    return `HTTP ${response.status}`;
  }

  async function run(values) {
    if (!values.q) return;
    const button = $("submit");
    button.disabled = true;
    setStatus(values.mode === "ask" ? "正在查找答案…" : "正在检索…");
    const filters = {};
    for (const name of ["since", "until", "source"]) if (values[name]) filters[name] = values[name];
    try {
      let response;
      if (values.mode === "ask") {
        response = await fetch("/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ question: values.q, k: values.k, ...filters }),
        });
      } else {
        const params = new URLSearchParams({ q: values.q, k: String(values.k), ...filters });
        response = await fetch(`/search?${params}`);
      }
      if (!response.ok) {
        setStatus(`出错了：${await errorText(response)}`, true);
        return;
      }
      const data = await response.json();
      if (values.mode === "ask") renderAnswer(data);
      else renderHits(data);
    } catch (err) {
      setStatus(`无法连接服务器：${err.message}`, true);
    } finally {
      button.disabled = false;
    }
  }

  function syncButton() {
    const mode = document.querySelector('input[name="mode"]:checked').value;
    $("submit").textContent = mode === "ask" ? "提问" : "检索";
  }

  async function loadFooter() {
    try {
      const health = await (await fetch("/health")).json();
      $("footer").textContent = `已收录 ${health.documents} 篇文档 · ${health.chunks} 个段落 · API 文档见 /docs`;
      const list = await (await fetch("/documents?limit=500")).json();
      const sources = [...new Set((list.documents || []).map((d) => d.source).filter(Boolean))].sort();
      $("sources").replaceChildren(...sources.map((s) => el("option", { value: s })));
    } catch (_) {
      /* the footer is optional */
    }
  }

  function start() {
    const form = $("query-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = formValues();
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(values)) params.set(key, String(value));
      history.replaceState(null, "", `?${params}`);
      run(values);
    });
    for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", syncButton);

    const initial = new URLSearchParams(location.search);
    if (initial.get("mode") === "search") document.querySelector('input[value="search"]').checked = true;
    for (const name of ["q", "since", "until", "source"]) if (initial.get(name)) $(name).value = initial.get(name);
    if (["5", "10", "20"].includes(initial.get("k"))) $("k").value = initial.get("k");
    syncButton();
    loadFooter();
    if ($("q").value.trim()) run(formValues());
  }

  start();
})();
