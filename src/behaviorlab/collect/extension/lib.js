// behaviorlab capture: the pure rules (no chrome.* API, no network), shared by the content
// script in the browser and by the tests under node. They work on any DOM-like tree: nodes
// with nodeType (1 element, 3 text), tagName, getAttribute, attributes, childNodes,
// parentElement; the browser's DOM is one, the tests build a small one from parsed HTML.
//
// 1. Semantic ids (stable names for elements), see semanticNames().
// 2. The simplified HTML snapshot, see simplify().
// 3. OPeRA click types, see classifyClick() and CLICK_RULES.
// 4. Small helpers: products on a page, element meta, host allowlist, retry backoff.
// 5. Privacy and trust: sensitive form fields, events from the user, the token handover,
//    batches capped by bytes.
(function (root, factory) {
  const lib = factory();
  if (typeof module === "object" && module.exports) module.exports = lib;
  else root.BehaviorLab = lib;
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // Elements dropped with everything inside: scripts, styles, vector art, embedded frames,
  // document metadata.
  const DROP_TAGS = new Set([
    "script", "style", "noscript", "template", "svg", "iframe", "canvas", "object", "embed",
    "link", "meta", "head", "title", "base",
  ]);
  const VOID_TAGS = new Set(["area", "br", "col", "hr", "img", "input", "source", "wbr"]);
  // What a shopper acts on: these always get a name (a semantic id) in the snapshot.
  const INTERACTIVE_TAGS = new Set([
    "a", "button", "input", "select", "textarea", "option", "label", "summary",
  ]);
  const INTERACTIVE_ROLES = new Set([
    "button", "link", "checkbox", "radio", "option", "menuitem", "tab", "switch", "textbox",
    "searchbox", "combobox", "listbox", "slider", "spinbutton",
  ]);
  // The attributes kept in the snapshot (everything else, class and style included, is
  // dropped). "name" is replaced by the element's semantic id.
  const KEPT_ATTRIBUTES = [
    "type", "href", "value", "placeholder", "aria-label", "alt", "title", "role", "checked",
    "selected", "disabled", "aria-pressed", "aria-current", "aria-expanded", "aria-checked",
    "data-asin", "data-title", "data-price", "data-quantity", "data-options", "data-selected",
  ];
  const MAX_SEGMENT = 48;
  const MAX_TEXT = 80;
  const MAX_HTML_CHARS = 1000000;
  const UI_MARKER = "data-behaviorlab-ui"; // our own rationale prompt: never recorded

  function tagOf(el) {
    return String(el.tagName || "").toLowerCase();
  }

  function attr(el, name) {
    const v = el.getAttribute ? el.getAttribute(name) : null;
    return v === null || v === undefined ? null : String(v);
  }

  function slug(text) {
    return String(text)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .slice(0, MAX_SEGMENT)
      .replace(/_+$/g, "");
  }

  function squash(text) {
    return String(text || "").replace(/\s+/g, " ").trim();
  }

  function textOf(el) {
    return squash(el.textContent !== undefined ? el.textContent : "");
  }

  // An id is stable unless it looks generated: long digit runs, hex hashes, framework ids.
  function stableId(id) {
    return (
      /^[A-Za-z][\w-]{0,63}$/.test(id) &&
      !/\d{4,}/.test(id) &&
      !/[0-9a-f]{8,}/i.test(id) &&
      !/^(ember|react|ng-|mui-|radix-|headlessui-)/i.test(id)
    );
  }

  // The segment an element gives to its own name and to every name inside it: an explicit
  // data-name (or data-testid), else a stable id. Nothing else names a container.
  function ownSegment(el) {
    const explicit = attr(el, "data-name") || attr(el, "data-testid");
    if (explicit && slug(explicit)) return slug(explicit);
    const id = attr(el, "id");
    if (id && stableId(id) && slug(id)) return slug(id);
    return null;
  }

  function isInteractive(el) {
    const tag = tagOf(el);
    if (INTERACTIVE_TAGS.has(tag)) return true;
    const role = attr(el, "role");
    return Boolean(role && INTERACTIVE_ROLES.has(role)) || attr(el, "onclick") !== null;
  }

  // The segment of an interactive element without data-name or id: its form name (with the
  // value for radio buttons and checkboxes), else its label (aria-label, alt, title,
  // placeholder, visible text), else its tag.
  function leafSegment(el) {
    const name = attr(el, "name");
    if (name && slug(name)) {
      const type = (attr(el, "type") || "").toLowerCase();
      const value = attr(el, "value");
      if ((type === "radio" || type === "checkbox") && value && slug(value)) {
        return slug(name) + "." + slug(value);
      }
      return slug(name);
    }
    for (const a of ["aria-label", "alt", "title", "placeholder"]) {
      const v = attr(el, a);
      if (v && slug(v)) return slug(v);
    }
    const text = slug(textOf(el).slice(0, MAX_TEXT));
    return text || tagOf(el);
  }

  // Semantic ids for a whole tree, in document order. The semantic id of an element is the
  // dotted path of the segments of its named ancestors (data-name / stable id) followed by
  // its own segment: e.g. search_results.strideline_running_shoes.product_title. Elements
  // with their own segment and interactive elements get a name; an id already used on the
  // page gets _2, _3, ... in document order. Returns a Map element → semantic id.
  function semanticNames(rootEl, isHidden) {
    const names = new Map();
    const used = new Map();
    const hidden = isHidden || defaultHidden;
    function visit(el, prefix) {
      if (el.nodeType !== 1) return;
      const tag = tagOf(el);
      if (DROP_TAGS.has(tag) || attr(el, UI_MARKER) !== null || hidden(el)) return;
      const own = ownSegment(el);
      const seg = own || (isInteractive(el) ? leafSegment(el) : null);
      let childPrefix = prefix;
      if (seg && tag !== "body" && tag !== "html") {
        let name = prefix ? prefix + "." + seg : seg;
        const n = (used.get(name) || 0) + 1;
        used.set(name, n);
        if (n > 1) name = name + "_" + n;
        names.set(el, name);
        if (own) childPrefix = name;
      }
      for (const child of Array.from(el.childNodes || [])) visit(child, childPrefix);
    }
    visit(rootEl, "");
    return names;
  }

  // Hidden without a layout engine: the hidden attribute, aria-hidden, inline display:none /
  // visibility:hidden, hidden inputs. The content script adds the computed style.
  function defaultHidden(el) {
    if (attr(el, "hidden") !== null || attr(el, "aria-hidden") === "true") return true;
    if (tagOf(el) === "input" && (attr(el, "type") || "").toLowerCase() === "hidden") {
      return true;
    }
    const style = attr(el, "style") || "";
    return /display\s*:\s*none|visibility\s*:\s*hidden/i.test(style);
  }

  function escapeText(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function escapeAttr(s) {
    return escapeText(s).replace(/"/g, "&quot;");
  }

  // The live value of a form control (property first: what the shopper typed or picked).
  function liveValue(el) {
    if (el.value !== undefined && el.value !== null) return String(el.value);
    return attr(el, "value");
  }

  // The simplified HTML of a tree: scripts, styles, svg, frames and hidden elements removed;
  // only KEPT_ATTRIBUTES kept; every named element (see semanticNames) carries its semantic
  // id in a name attribute; text squashed; elements left with no text, no name and no kept
  // attribute are unwrapped (their content stays, the tag goes). Password values are never
  // written. Returns {html, names}.
  function simplify(rootEl, options) {
    const opts = options || {};
    const hidden = opts.isHidden || defaultHidden;
    const names = opts.names || semanticNames(rootEl, hidden);
    const maxChars = opts.maxChars || MAX_HTML_CHARS;
    function render(node) {
      if (node.nodeType === 3) {
        const t = squash(node.nodeValue);
        return t ? escapeText(t) : "";
      }
      if (node.nodeType !== 1) return "";
      const tag = tagOf(node);
      if (DROP_TAGS.has(tag) || attr(node, UI_MARKER) !== null || hidden(node)) return "";
      const parts = [];
      const name = names.get(node);
      if (name) parts.push(' name="' + escapeAttr(name) + '"');
      const type = (attr(node, "type") || "").toLowerCase();
      for (const a of KEPT_ATTRIBUTES) {
        let v = attr(node, a);
        if (a === "value" && (tag === "input" || tag === "textarea" || tag === "select")) {
          v = sensitiveField(node) ? null : liveValue(node);
        }
        if (a === "checked" && node.checked !== undefined) v = node.checked ? "" : null;
        if (a === "selected" && node.selected !== undefined) v = node.selected ? "" : null;
        if (v !== null && v !== undefined && !(a === "value" && v === "")) {
          parts.push(" " + a + '="' + escapeAttr(String(v).slice(0, 500)) + '"');
        }
      }
      const inner = [];
      for (const child of Array.from(node.childNodes || [])) {
        const r = render(child);
        if (r) inner.push(r);
      }
      const body = inner.join(" ");
      if (tag === "html" || tag === "body") return body;
      if (VOID_TAGS.has(tag)) {
        if (!parts.length) return "";
        return "<" + tag + parts.join("") + ">";
      }
      if (!parts.length && !name) {
        // a wrapper without meaning: keep block structure only where there is text
        if (!body) return "";
        if (!/^(p|li|ul|ol|h[1-6]|table|tr|td|th|form|nav|header|footer|main|section)$/.test(tag)) {
          return body;
        }
      }
      return "<" + tag + parts.join("") + ">" + body + "</" + tag + ">";
    }
    let html = render(rootEl);
    if (html.length > maxChars) html = html.slice(0, maxChars);
    return { html: html, names: names };
  }

  // The element a click is about: the nearest interactive ancestor-or-self, else the nearest
  // element with its own segment, else the element itself.
  function actionTarget(el) {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      if (isInteractive(n)) return n;
    }
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      if (ownSegment(n)) return n;
    }
    return el;
  }

  // OPeRA click types, from the semantic id (split into segments) and the element. The first
  // rule that matches wins; the order matters (e.g. "proceed to checkout" in the cart side
  // bar is a purchase, a quantity button inside the buy box is a quantity, a review filter
  // is a review and not a filter).
  const seg = (re) => (s) => s.segments.some((x) => re.test(x));
  const last = (re) => (s) => re.test(s.segments[s.segments.length - 1] || "");
  const first = (re) => (s) => re.test(s.segments[0] || "");
  const CLICK_RULES = [
    // the search box and its button (or any control of a role=search form / type=search)
    ["search", (s) => last(/^(search|search_input|search_button|search_submit|search_box)$/)(s)
      || s.inSearchForm || s.type === "search"],
    // the site's top bar: logo, account, cart link, category menu
    ["nav_bar", first(/^(nav_bar|navbar|nav|header|top_nav|site_header|masthead)$/)],
    // suggested / related / popular search terms, autocomplete entries
    ["suggested_term", seg(/^(suggested_terms?|related_searches|suggestions?|autocomplete)$/)],
    // anything inside a reviews block (filters of reviews included), "N ratings" links
    ["review", seg(/^(reviews?|customer_reviews|see_reviews|review_\w+)$/)],
    // result refinements: facets, filters, sort order
    ["filter", seg(/^(refinements|filters?|facets?|sort_by|sort)$/)],
    // committing to buy: add to cart, buy now, checkout, place order
    ["purchase", last(/^(add_to_cart|add_to_basket|buy_now|check_out|checkout|proceed_to_checkout|place_order|place_your_order)$/)],
    // the cart side bar / mini cart that opens after adding to the cart
    ["cart_side_bar", seg(/^(cart_side_bar|side_cart|mini_cart|cart_flyout)$/)],
    // selecting items on the cart page (checkboxes, select / deselect all)
    ["cart_page_select", (s) => last(/^(select_all_items|deselect_all_items|checkbox)$/)(s)
      || (s.type === "checkbox" && s.segments.includes("cart"))],
    // quantity steppers and pickers, deleting a cart line
    ["quantity", seg(/^(quantity|qty|increase|decrease|delete|remove)$/)],
    // product variations: size, colour, style, format swatches
    ["product_option", seg(/^(product_options|variations?|swatch(es)?|twister)$/)],
    // a product's title or image (a link to its page)
    ["product_link", last(/^(product_title|product_image|product_link)$/)],
    // paging and carousels
    ["page_related", seg(/^(pagination|next|previous|next_page|prev_page|page_\d+|carousel)$/)],
    // fallbacks from the element itself
    ["nav_bar", (s) => s.inNav],
    ["product_link", (s) => /\/(product|dp|gp\/product|p)\/[^/?#]+/.test(s.href || "")],
  ];

  // info: {type, href, inSearchForm, inNav} of the clicked element (see clickInfo()).
  function classifyClick(semanticId, info) {
    const s = Object.assign({ segments: String(semanticId || "").split(".") }, info || {});
    for (const [kind, test] of CLICK_RULES) {
      if (test(s)) return kind;
    }
    return "other";
  }

  function clickInfo(el) {
    let inSearchForm = false;
    let inNav = false;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const tag = tagOf(n);
      if (tag === "form" && attr(n, "role") === "search") inSearchForm = true;
      if (tag === "nav" || tag === "header" || attr(n, "role") === "navigation") inNav = true;
    }
    return {
      type: (attr(el, "type") || "").toLowerCase(),
      href: attr(el, "href") || "",
      inSearchForm: inSearchForm,
      inNav: inNav,
    };
  }

  // element_meta: the semantic id as name, the element's data-* attributes, tag, text.
  function elementMeta(el, semanticId) {
    const data = {};
    for (const a of Array.from(el.attributes || [])) {
      if (a.name.startsWith("data-") && a.name !== UI_MARKER) data[a.name.slice(5)] = a.value;
    }
    const meta = { name: semanticId || null, data: data, tag: tagOf(el) };
    const text = textOf(el).slice(0, 200);
    if (text) meta.text = text;
    for (const a of ["type", "href", "role", "aria-label"]) {
      const v = attr(el, a);
      if (v) meta[a.replace("-", "_")] = v.slice(0, 500);
    }
    return meta;
  }

  // The products shown: every element with data-asin (title, price, quantity, options from
  // its data-* attributes), once per asin + options, at most 60.
  function productsOf(rootEl) {
    const out = [];
    const seen = new Set();
    function visit(el) {
      if (el.nodeType !== 1 || out.length >= 60) return;
      const asin = attr(el, "data-asin");
      if (asin) {
        const p = { asin: asin, title: attr(el, "data-title") || "" };
        const price = parseFloat(attr(el, "data-price") || "");
        if (!Number.isNaN(price)) p.price = price;
        const q = parseInt(attr(el, "data-quantity") || "", 10);
        if (!Number.isNaN(q)) p.quantity = q;
        const options = attr(el, "data-options");
        if (options) {
          try {
            p.options = JSON.parse(options);
          } catch (e) {
            p.options = options;
          }
        }
        const key = asin + "|" + (options || "");
        if (!seen.has(key)) {
          seen.add(key);
          out.push(p);
        }
      }
      for (const child of Array.from(el.childNodes || [])) visit(child);
    }
    visit(rootEl);
    return out;
  }

  // The study's host allowlist, as the server reads it: "host", "host:port" or "*.domain".
  function hostAllowed(host, port, allowed) {
    host = String(host || "").toLowerCase();
    for (const a of allowed || []) {
      const entry = String(a).toLowerCase();
      if (entry.startsWith("*.")) {
        if (host.endsWith(entry.slice(1)) || host === entry.slice(2)) return true;
      } else if (entry.includes(":")) {
        if (port && entry === host + ":" + port) return true;
      } else if (entry === host) {
        return true;
      }
    }
    return false;
  }

  // Form fields whose values are never recorded (neither as input events nor as values in
  // snapshots): passwords, and fields whose autocomplete names payment, contact, identity
  // or address data (cc-*, tel*, email, name parts, street address, postal code, birthday,
  // one-time codes, passwords).
  const SENSITIVE_AUTOCOMPLETE = /^(cc-.*|tel(-.*)?|email|name|given-name|additional-name|family-name|honorific-(prefix|suffix)|nickname|username|street-address|address-line[1-3]|address-level[1-4]|postal-code|bday(-.*)?|one-time-code|new-password|current-password|transaction-.*|impp|url|photo|sex)$/;
  const SENSITIVE_TYPES = new Set(["password", "tel", "email"]);
  const SENSITIVE_NAME = /(^|[_\W])(cc|card|cvv|cvc|csc|security_?code|expir\w*|exp_?(date|month|year)|iban|ssn|passw\w*|pin)($|[_\W])/i;

  function sensitiveField(el) {
    const type = (attr(el, "type") || "").toLowerCase();
    if (SENSITIVE_TYPES.has(type)) return true;
    const auto = (attr(el, "autocomplete") || "").toLowerCase().split(/\s+/).filter(Boolean);
    // the last token is the field name; "section-*", "shipping", "billing", "home" ... qualify it
    if (auto.length && SENSITIVE_AUTOCOMPLETE.test(auto[auto.length - 1])) return true;
    const name = attr(el, "name") || attr(el, "id") || "";
    return SENSITIVE_NAME.test(name);
  }

  // Whether a DOM event is the user's own (not dispatched by the page's scripts, which
  // could otherwise forge actions) and not from the extension's own UI.
  function fromUser(event) {
    if (!event || event.isTrusted !== true) return false;
    const path = typeof event.composedPath === "function" ? event.composedPath() : [];
    return !path.some((n) => n && n.getAttribute && n.getAttribute(UI_MARKER) !== null);
  }

  // The origin (scheme://host:port) of an http(s) URL; "" for anything else.
  function httpOrigin(url) {
    try {
      const u = new URL(String(url || ""));
      return u.protocol === "http:" || u.protocol === "https:" ? u.origin : "";
    } catch (e) {
      return "";
    }
  }

  // Whether to take a participant token a page offers. Only the server the participant
  // configured in the options page (settings.server) may link the extension: an offer from
  // any other origin is ignored, also before a server is configured, so no web page can get
  // the participant to link the extension to it (there is nothing to approve). The page's
  // origin comes from the browser (the message sender), never from the page; a page may
  // name only itself as the server.
  // Returns {action: "accept" | "ignore", server, token, origin, reason}.
  function handoverDecision(settings, pageOrigin, offer) {
    const approved = httpOrigin(settings && settings.server);
    const page = httpOrigin(pageOrigin);
    const token = String((offer && offer.token) || "").trim();
    if (!page) return { action: "ignore", origin: null, reason: "not an http(s) page" };
    const refuse = (reason) => ({ action: "ignore", origin: page, reason: reason });
    if (!/^[A-Za-z0-9_.~-]{8,200}$/.test(token)) return refuse("no valid token");
    const named = offer && offer.server ? httpOrigin(offer.server) : page;
    if (named !== page) return refuse("a page may only name itself as the server");
    if (!approved) {
      return refuse("no study server is configured; enter your study's server in these " +
        "settings first, then open its enrolment page again");
    }
    if (approved !== page) return refuse("it is not your configured study server " + approved);
    return { action: "accept", server: settings.server, token: token, origin: page,
             reason: "your configured study server" };
  }

  // What the options page shows about the last token offer: the offering origin, in large
  // type, and what was done with it. null when there is nothing to show.
  function offerNotice(lastOffer, settings) {
    if (!lastOffer || !lastOffer.origin) return null;
    const linked = lastOffer.action === "accept";
    return {
      origin: lastOffer.origin,
      linked: linked,
      text: linked
        ? "linked this extension to your study (your configured server)."
        : "offered to link this extension; ignored: " + lastOffer.reason + ".",
      warning: !linked && httpOrigin(settings && settings.server) !== lastOffer.origin,
    };
  }

  // Whether new settings name another participant (or server): then everything buffered or
  // cached for the old one (queue, session, prompt, config) must go.
  function participantChanged(before, after) {
    const a = before || {};
    const b = after || {};
    return (a.server || "") !== (b.server || "") || (a.token || "") !== (b.token || "");
  }

  // UTF-8 length of a string (what a JSON body weighs on the wire).
  function utf8Bytes(text) {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }

  // The next batch from the queue: events then rationales, in order, at most maxItems of
  // each and at most maxBytes of JSON body; always at least one item (a single item over
  // the limit is sent alone, so the server can refuse it and it is dropped).
  // A rationale waits while its event is still queued and not in this batch (the server
  // refuses rationales for events it has not received).
  // Returns {events, rationales, bytes}.
  function takeBatch(queue, maxItems, maxBytes) {
    let bytes = utf8Bytes('{"events":[],"rationales":[]}');
    const out = { events: [], rationales: [], bytes: 0 };
    const queued = new Set((queue.events || []).map((e) => e.event_id));
    for (const [kind, items] of [["events", queue.events || []], ["rationales", queue.rationales || []]]) {
      for (const item of items) {
        if (out[kind].length >= maxItems) break;
        if (kind === "rationales" && queued.has(item.event_id) &&
            !out.events.some((e) => e.event_id === item.event_id)) continue;
        const size = utf8Bytes(JSON.stringify(item)) + 1;
        const empty = !out.events.length && !out.rationales.length;
        if (!empty && bytes + size > maxBytes) break;
        out[kind].push(item);
        bytes += size;
      }
    }
    out.bytes = bytes;
    return out;
  }

  // Retry delay after n failures in a row: 2 s, 4 s, 8 s, ... at most 5 minutes.
  function backoffSeconds(failures) {
    return Math.min(300, 2 * Math.pow(2, Math.max(0, failures - 1)));
  }

  return {
    DROP_TAGS, KEPT_ATTRIBUTES, CLICK_RULES, UI_MARKER, MAX_HTML_CHARS,
    slug, stableId, ownSegment, leafSegment, isInteractive, semanticNames, defaultHidden,
    simplify, actionTarget, classifyClick, clickInfo, elementMeta, productsOf, hostAllowed,
    backoffSeconds, sensitiveField, fromUser, httpOrigin, handoverDecision, offerNotice,
    participantChanged,
    utf8Bytes, takeBatch,
  };
});
