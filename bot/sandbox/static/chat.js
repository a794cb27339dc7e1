// The sandbox chat page: renders Cloud API wire messages the way WhatsApp shows them, and turns
// taps and typing into POSTs that the server forwards to the bot as signed webhooks.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  const phone = (params.get("phone") || "").replace(/^\+/, "");
  const customerName = params.get("name") || undefined;
  const api = `/sandbox/api/customers/${encodeURIComponent(phone)}`;
  const byId = (id) => document.getElementById(id);
  const log = byId("messages");
  const rows = new Map(); // seq -> {item, el}
  const byWamid = new Map(); // wamid -> item, for the quote above a tapped reply

  // --- small helpers ---------------------------------------------------------------------------

  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      // Through the CSSOM: the page's Content-Security-Policy refuses style="..." attributes.
      else if (key === "style") node.style.cssText = value;
      else if (key === "html") node.innerHTML = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const escapeHtml = (s) =>
    s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  // WhatsApp's own markup: *bold*, _italic_, ~strike~, ```mono```; links become clickable.
  function formatPlain(text) {
    let out = escapeHtml(text);
    out = out.replace(/```([\s\S]+?)```/g, "<code>$1</code>");
    const mark = (sym, tag) =>
      (out = out.replace(new RegExp(`(^|[^\\w${sym}])\\${sym}([^\\${sym}\\n]+)\\${sym}(?=$|[^\\w${sym}])`, "g"), `$1<${tag}>$2</${tag}>`));
    mark("*", "b");
    mark("_", "i");
    mark("~", "s");
    return out;
  }

  function formatText(text) {
    // Links are cut out first so markup inside a URL (an underscore, say) stays untouched.
    return String(text)
      .split(/(https?:\/\/[^\s<>"]+)/g)
      .map((part, i) => {
        if (i % 2 === 0) return formatPlain(part);
        const url = escapeHtml(part);
        return `<a href="${url}" target="_blank" rel="noopener">${url}</a>`;
      })
      .join("");
  }

  function prettyPhone(p) {
    if (/^91\d{10}$/.test(p)) return `+91 ${p.slice(2, 7)} ${p.slice(7)}`;
    return `+${p}`;
  }

  const clock = (at) => new Date(at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

  function toast(text) {
    const box = byId("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (box.hidden = true), 5000);
  }

  const ICONS = {
    reply: "M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z",
    link: "M14 3v2h3.59l-9.83 9.83 1.41 1.41L19 6.41V10h2V3h-7zm5 16H5V5h7V3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-7h-2v7z",
    list: "M3 13h2v-2H3v2zm0 4h2v-2H3v2zm0-8h2V7H3v2zm4 4h14v-2H7v2zm0 4h14v-2H7v2zM7 7v2h14V7H7z",
  };
  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }

  const CHECK = "M11.07.65 4.93 7.85 2.32 5.4 1.3 6.5l3.7 3.45 7.15-8.35z";
  const CHECK2 = "M15.07.65 8.93 7.85l-.7-.65-1.03 1.1 1.8 1.65 7.15-8.35z";
  function ticks(status) {
    if (status === "failed") return h("span", { class: "ticks failed", title: "Not delivered to the bot" }, "!");
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 16 11");
    svg.setAttribute("class", `ticks ${status}`);
    const paths = status === "sent" ? [CHECK] : [CHECK, CHECK2];
    for (const d of paths) {
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "currentColor");
      svg.append(path);
    }
    svg.setAttribute("aria-label", status);
    return svg;
  }

  // --- sending ---------------------------------------------------------------------------------

  async function send(payload) {
    if (customerName) payload.name = customerName;
    try {
      const response = await fetch(`${api}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      const data = await response.json();
      if (!response.ok) return toast(`Not sent: ${JSON.stringify(data.problems || data)}`);
      upsert(data.item); // normally already here through the event stream
      if (!data.webhook.ok) toast(`The bot did not accept the webhook: ${data.webhook.error}`);
    } catch (err) {
      toast(`Could not reach the sandbox: ${err}`);
    }
  }

  // --- rendering one message -------------------------------------------------------------------

  function summary(message) {
    if (!message) return "";
    if (message.type === "text") return message.text?.body ?? "";
    if (message.type === "template") return `Template ${message.template?.name ?? ""}`;
    const i = message.interactive || {};
    if (i.button_reply) return i.button_reply.title;
    if (i.list_reply) return i.list_reply.title;
    return i.body?.text ?? `[${message.type}]`;
  }

  function meta(item, withTicks) {
    return h("span", { class: "meta" }, clock(item.at), withTicks ? ticks(item.status) : null);
  }

  function shopBubble(item) {
    const msg = item.message;
    if (msg.type === "text") {
      return [h("div", { class: "bubble" }, h("span", { class: "text", html: formatText(msg.text.body) }), meta(item))];
    }
    if (msg.type === "template") {
      // Outside the 24-hour window the shop may send only approved templates: show the name and
      // the parameters it filled, as the sandbox has no template text to fill them into.
      const values = (msg.template.components || []).flatMap((c) => (c.parameters || []).map((p) => p.text ?? ""));
      return [
        h(
          "div",
          { class: "bubble" },
          h("div", { class: "header-text" }, `Template: ${msg.template.name} (${msg.template.language.code})`),
          h("div", { class: "text" }, values.map((v, n) => `{{${n + 1}}} ${v}`).join("\n")),
          meta(item),
        ),
      ];
    }
    const i = msg.interactive;
    const bubble = h(
      "div",
      { class: "bubble" },
      i.header?.type === "text" ? h("div", { class: "header-text" }, i.header.text) : null,
      h("div", { class: "text", html: formatText(i.body.text) }),
      i.footer ? h("div", { class: "footer-text" }, i.footer.text) : null,
      meta(item),
    );
    if (i.type === "list") {
      bubble.append(
        h("button", { type: "button", class: "bubble-action list-open", onclick: () => openSheet(item) }, icon("list"), i.action.button),
      );
    }
    if (i.type === "cta_url") {
      const p = i.action.parameters;
      bubble.append(h("a", { class: "bubble-action cta", href: p.url, target: "_blank", rel: "noopener" }, icon("link"), p.display_text));
    }
    const parts = [bubble];
    if (i.type === "button") {
      const buttons = i.action.buttons.map((b) =>
        h(
          "button",
          {
            type: "button",
            class: "reply-btn",
            onclick: () => send({ type: "button_reply", id: b.reply.id, title: b.reply.title, context: item.id }),
          },
          icon("reply"),
          b.reply.title,
        ),
      );
      parts.push(h("div", { class: "buttons" }, buttons));
    }
    return parts;
  }

  function rejectedBubble(item) {
    const error = item.error || {};
    return [
      h(
        "div",
        { class: "bubble error-bubble" },
        h("div", { class: "error-title" }, "⚠ Message not delivered"),
        h("div", {}, `WhatsApp rejected the bot's message (#${error.code ?? "?"}). The customer would see nothing.`),
        h("div", { class: "error-details" }, error.details || ""),
        h("details", {}, h("summary", {}, "Request body"), h("pre", {}, JSON.stringify(item.message, null, 2))),
        meta(item),
      ),
    ];
  }

  function customerBubble(item) {
    const msg = item.message;
    const quoted = msg.context ? byWamid.get(msg.context.id) : null;
    const bubble = h(
      "div",
      { class: "bubble" },
      quoted
        ? h("div", { class: "quote" }, h("div", { class: "quote-from" }, byId("shop-name").textContent), h("span", { html: formatText(summary(quoted.message)) }))
        : null,
      h("span", { class: "text", html: formatText(summary(msg)) }),
      meta(item, true),
    );
    const parts = [bubble];
    if (item.status === "failed") {
      parts.push(h("div", { class: "delivery-note" }, `Not delivered to the bot: ${item.error?.details ?? "unknown error"}`));
    }
    return parts;
  }

  function renderRow(item) {
    const mine = item.sender === "customer";
    let parts;
    if (mine) parts = customerBubble(item);
    else if (item.status === "rejected") parts = rejectedBubble(item);
    else parts = shopBubble(item);
    return h("div", { class: `row ${mine ? "out" : "in"}`, "data-seq": item.seq, "data-sender": item.sender, "data-status": item.status }, parts);
  }

  function markContinuation(row) {
    if (!row) return;
    const prev = row.previousElementSibling;
    const same = prev && prev.classList.contains("row") && prev.dataset.sender === row.dataset.sender;
    row.classList.toggle("cont", Boolean(same));
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 160;
  }

  function upsert(item) {
    const known = rows.get(item.seq);
    if (known && known.item.version >= item.version) return;
    byWamid.set(item.id, item);
    const stick = nearBottom() || item.sender === "customer";
    const row = renderRow(item);
    if (known) {
      known.el.replaceWith(row);
    } else {
      // Keep conversation order even when an older message's update arrives late.
      const later = [...rows.values()].filter((r) => r.item.seq > item.seq).sort((a, b) => a.item.seq - b.item.seq)[0];
      if (later) log.insertBefore(row, later.el);
      else log.append(row);
    }
    rows.set(item.seq, { item, el: row });
    showTyping();
    markContinuation(row);
    markContinuation(row.nextElementSibling);
    if (stick) log.scrollTop = log.scrollHeight;
    if (!known) {
      showPreview(item);
      scheduleSidebar();
    }
  }

  // "typing…" under the shop's name, as WhatsApp shows it: from the bot's typing indicator on
  // the customer's newest message until the bot's next message arrives, or 25 seconds.
  const TYPING_MS = 25000;
  const typingSince = new Map(); // wamid -> when this page first saw its typing indicator
  let typingTimer = null;
  let subtitle = null;

  function showTyping() {
    const sub = byId("chat-sub");
    if (subtitle === null) subtitle = sub.textContent;
    const newest = [...rows.values()].reduce((a, b) => (b.item.seq > a.item.seq ? b : a), { item: { seq: -1 } }).item;
    let typing = false;
    if (newest.sender === "customer" && newest.typing) {
      if (!typingSince.has(newest.id)) typingSince.set(newest.id, Date.now());
      typing = Date.now() - typingSince.get(newest.id) < TYPING_MS;
    }
    sub.classList.toggle("typing", typing);
    sub.textContent = typing ? "typing…" : subtitle;
    clearTimeout(typingTimer);
    if (typing) typingTimer = setTimeout(showTyping, TYPING_MS);
  }

  // The open customer's preview changes at once; the periodic refresh catches up the rest.
  function showPreview(item) {
    const last = document.querySelector("#customers a.active .cust-last");
    if (!last) return;
    const name = last.textContent.split(" · ")[0];
    last.textContent = `${name} · ${summary(item.message)}`;
    const time = document.querySelector("#customers a.active .cust-time");
    if (time) time.textContent = clock(item.at);
  }

  // --- list bottom sheet -----------------------------------------------------------------------

  function openSheet(item) {
    const action = item.message.interactive.action;
    byId("sheet-title").textContent = action.button;
    const body = byId("sheet-body");
    body.replaceChildren();
    for (const section of action.sections) {
      if (section.title) body.append(h("div", { class: "section-title" }, section.title));
      for (const row of section.rows) {
        body.append(
          h(
            "button",
            {
              type: "button",
              class: "list-row",
              onclick: () => {
                closeSheet();
                send({ type: "list_reply", id: row.id, title: row.title, description: row.description, context: item.id });
              },
            },
            h("div", { class: "row-text" }, h("div", { class: "row-title" }, row.title), row.description ? h("div", { class: "row-desc" }, row.description) : null),
            h("span", { class: "radio", "aria-hidden": "true" }),
          ),
        );
      }
    }
    byId("sheet").hidden = false;
  }

  function closeSheet() {
    byId("sheet").hidden = true;
  }

  // --- sidebar ---------------------------------------------------------------------------------

  async function refreshSidebar() {
    let list = [];
    try {
      list = await (await fetch("/sandbox/api/customers")).json();
    } catch {
      return;
    }
    if (!list.some((c) => c.phone === phone)) list.unshift({ phone, name: customerName || `Customer ${phone.slice(-4)}`, last: "No messages yet" });
    const items = list.map((c) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `/sandbox?phone=${encodeURIComponent(c.phone)}`, class: c.phone === phone ? "active" : "" },
          h("div", { class: "avatar", style: `background:hsl(${(Number(c.phone.slice(-3)) * 47) % 360} 45% 55%)` }, c.phone.slice(-2)),
          h(
            "div",
            { class: "cust-main" },
            h("div", { class: "cust-top" }, h("span", { class: "cust-name" }, prettyPhone(c.phone)), h("span", { class: "cust-time" }, c.at ? clock(c.at) : "")),
            h("div", { class: "cust-last" }, `${c.name} · ${c.last}`),
          ),
        ),
      ),
    );
    byId("customers").replaceChildren(...items);
  }

  let sidebarTimer = null;
  function scheduleSidebar() {
    clearTimeout(sidebarTimer);
    sidebarTimer = setTimeout(refreshSidebar, 300);
  }

  // --- the shop's clock --------------------------------------------------------------------------

  async function fastForward(hours) {
    try {
      const response = await fetch("/sandbox/api/clock", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ hours }),
      });
      const data = await response.json();
      if (!response.ok) return toast(`Clock not moved: ${JSON.stringify(data.problems || data.error || data)}`);
      const fired = data.reminders_fired ? `; reminders due: ${data.reminders_fired}` : "";
      toast(`The shop's clock is ${Math.round(data.ahead_hours)} h ahead${fired}`);
    } catch (err) {
      toast(`Could not reach the sandbox: ${err}`);
    }
  }

  // --- start -----------------------------------------------------------------------------------

  async function start() {
    byId("me").textContent = `You: ${prettyPhone(phone)}`;
    try {
      const info = await (await fetch("/sandbox/api/info")).json();
      byId("shop-name").textContent = info.shop;
      byId("shop-avatar").textContent = (info.shop || "S").slice(0, 1).toUpperCase();
      subtitle = `business account · +${info.display_phone_number} · sandbox`;
      if (!byId("chat-sub").classList.contains("typing")) byId("chat-sub").textContent = subtitle;
      document.title = `${info.shop} · sandbox chat`;
      if ((info.owners || []).includes(phone)) {
        // OWNER_WHATSAPP: this number gets owner commands (orders, ship, refund…), not the shop.
        byId("me").textContent = `You: ${prettyPhone(phone)} · shop owner`;
        byId("me").classList.add("owner");
        byId("text").placeholder = "Owner command: orders, order ID, ship ID, refund ID, stock…, help";
        document.title = `${info.shop} · owner · sandbox chat`;
      }
    } catch {
      toast("Could not load the shop's details");
    }
    // The stream starts with the whole history, then sends each change; the browser resumes it
    // with Last-Event-ID after a drop.
    const events = new EventSource(`${api}/events`);
    events.onmessage = (event) => upsert(JSON.parse(event.data));
    events.onopen = () => byId("chat-sub").classList.remove("offline");

    byId("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = byId("text");
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      send({ type: "text", text });
      input.focus();
    });
    document.querySelectorAll("[data-hours]").forEach((button) => {
      button.addEventListener("click", () => fastForward(Number(button.dataset.hours)));
    });
    byId("sheet").addEventListener("click", (event) => {
      if (event.target.closest("[data-close]")) closeSheet();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeSheet();
    });
    refreshSidebar();
    setInterval(refreshSidebar, 5000);
    byId("text").focus();
  }

  start();
})();
